// Fidelity check: Slack's official Node clients must not be able to tell
// bot/slackemu from Slack. Run by TestFidelity_OfficialNodeClients, which
// starts the emulator and passes its URL and tokens in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModeClient, LogLevel } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';

const { SLACK_API_URL, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, FIDELITY_CHANNEL } = process.env;

test('socket mode event is received and acked, then a message is posted', { timeout: 30000 }, async () => {
  assert.ok(SLACK_API_URL && SLACK_APP_TOKEN && SLACK_BOT_TOKEN && FIDELITY_CHANNEL, 'emulator env missing');
  const socket = new SocketModeClient({
    appToken: SLACK_APP_TOKEN,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: SLACK_API_URL },
  });
  let gotHuman;
  let gotEcho;
  const firstHuman = new Promise((resolve) => { gotHuman = resolve; });
  const botEcho = new Promise((resolve) => { gotEcho = resolve; });
  socket.on('message', async ({ event, body, ack, retry_num }) => {
    await ack();
    if (event.bot_id) gotEcho(event);
    else gotHuman({ event, body, retry_num });
  });
  await socket.start();
  try {
    const { event, body, retry_num } = await firstHuman;
    assert.equal(body.type, 'event_callback');
    assert.match(body.event_id, /^Ev/);
    assert.equal(retry_num, 0);
    assert.equal(event.channel, FIDELITY_CHANNEL);
    assert.equal(event.channel_type, 'channel');

    const web = new WebClient(SLACK_BOT_TOKEN, { slackApiUrl: SLACK_API_URL });
    const auth = await web.auth.test();
    assert.equal(auth.ok, true);
    const res = await web.chat.postMessage({ channel: FIDELITY_CHANNEL, text: `echo: ${event.text}` });
    assert.equal(res.ok, true);
    assert.equal(res.channel, FIDELITY_CHANNEL);
    assert.match(res.ts, /^\d{10}\.\d{6}$/);
    assert.equal(res.message.bot_id, auth.bot_id);
    // Slack echoes the bot's own post as a message event carrying bot_id.
    const echo = await botEcho;
    assert.equal(echo.ts, res.ts);
    assert.equal(echo.bot_profile.id, auth.bot_id);
  } finally {
    await socket.disconnect();
  }
});
