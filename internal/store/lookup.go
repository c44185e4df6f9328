package store

import (
	"context"

	"github.com/cla-ops/cla/jobs"
	bolt "go.etcd.io/bbolt"
)

// JobByChannel returns the job a Slack channel is bound to.
func (db *DB) JobByChannel(ctx context.Context, channelID string) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketChannels).Get([]byte(channelID))
		if v == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "channel %s is not bound to a job", channelID)
		}
		id = string(v)
		return nil
	})
	return id, err
}

// JobByMessage returns the job whose gate announcement is the message ts
// in channel.
func (db *DB) JobByMessage(ctx context.Context, channelID, ts string) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMessages).Get(messageKey(channelID, ts))
		if v == nil {
			return jobs.Errorf(jobs.ENOTFOUND, "message %s in %s announces no gate", ts, channelID)
		}
		id = string(v)
		return nil
	})
	return id, err
}
