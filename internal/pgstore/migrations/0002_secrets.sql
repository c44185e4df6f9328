-- cla schema 2: secrets every replica must share (the web session key).
CREATE TABLE cla_secrets (
    name       text COLLATE "C" PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
