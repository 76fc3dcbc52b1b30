-- domain: Voice
-- Phone calls through Twilio Media Streams: phone numbers, per-channel voice settings (speech
-- recognition, synthesis, barge-in), calls and their events, transcripts (partitioned by month)
-- and recording metadata (the audio itself lives in object storage).

CREATE TABLE phone_numbers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    e164         text NOT NULL UNIQUE CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    provider     text NOT NULL DEFAULT 'twilio' CHECK (provider IN ('twilio')),
    provider_sid text,
    channel_id   uuid REFERENCES bot_channels (id) ON DELETE SET NULL,
    capabilities text[] NOT NULL DEFAULT '{voice}' CHECK (capabilities <@ ARRAY['voice', 'sms', 'mms']::text[]),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'porting', 'released')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz
);
COMMENT ON TABLE phone_numbers IS 'Phone numbers an organization owns and the channel each rings.';
CREATE INDEX phone_numbers_org_id_idx ON phone_numbers (org_id);
CREATE INDEX phone_numbers_channel_id_idx ON phone_numbers (channel_id);

CREATE TABLE voice_settings (
    channel_id         uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    language           text NOT NULL DEFAULT 'en-US',
    -- A faster-whisper model name or path.
    asr_model          text NOT NULL DEFAULT 'tiny.en',
    tts_engine         text NOT NULL DEFAULT 'espeak' CHECK (tts_engine IN ('espeak', 'openai')),
    tts_voice          text,
    -- Caller speech interrupts the bot's playback.
    barge_in           boolean NOT NULL DEFAULT true,
    silence_timeout_ms integer NOT NULL DEFAULT 800 CHECK (silence_timeout_ms BETWEEN 100 AND 10000),
    max_call_seconds   integer NOT NULL DEFAULT 1800 CHECK (max_call_seconds > 0),
    record_calls       boolean NOT NULL DEFAULT false,
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE voice_settings IS 'Speech settings of a voice channel: ASR model, TTS voice, barge-in, timeouts.';
CREATE INDEX voice_settings_org_id_idx ON voice_settings (org_id);
CREATE TRIGGER voice_settings_touch BEFORE UPDATE ON voice_settings
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE voice_calls (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id       uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    conversation_id  uuid REFERENCES conversations (id) ON DELETE SET NULL,
    phone_number_id  uuid REFERENCES phone_numbers (id) ON DELETE SET NULL,
    call_sid         text NOT NULL UNIQUE CHECK (call_sid ~ '^CA[0-9a-fA-F]{32}$'),
    direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_number      text NOT NULL,
    to_number        text NOT NULL,
    status           text NOT NULL DEFAULT 'ringing' CHECK (status IN (
                         'queued', 'ringing', 'in_progress', 'completed', 'busy', 'failed', 'no_answer', 'canceled')),
    end_reason       text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz,
    ended_at         timestamptz,
    duration_seconds integer CHECK (duration_seconds >= 0)
);
COMMENT ON TABLE voice_calls IS 'Phone calls handled by a voice channel.';
CREATE INDEX voice_calls_org_started_idx ON voice_calls (org_id, started_at);
CREATE INDEX voice_calls_channel_id_idx ON voice_calls (channel_id);
CREATE INDEX voice_calls_conversation_id_idx ON voice_calls (conversation_id);
CREATE INDEX voice_calls_phone_number_id_idx ON voice_calls (phone_number_id);

CREATE TABLE voice_call_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id     uuid NOT NULL REFERENCES voice_calls (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN (
                    'status_callback', 'stream_start', 'stream_stop', 'dtmf', 'mark', 'barge_in',
                    'silence_timeout', 'transfer', 'error')),
    payload     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    occurred_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE voice_call_events IS 'What happened during a call: stream start/stop, DTMF, barge-in, status callbacks.';
CREATE INDEX voice_call_events_org_id_idx ON voice_call_events (org_id);
CREATE INDEX voice_call_events_call_id_idx ON voice_call_events (call_id, occurred_at);

CREATE TABLE voice_transcripts (
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id    uuid NOT NULL REFERENCES voice_calls (id) ON DELETE CASCADE,
    speaker    text NOT NULL CHECK (speaker IN ('caller', 'bot', 'agent')),
    text       text NOT NULL,
    -- Partial hypotheses are replaced by a final segment.
    is_final   boolean NOT NULL DEFAULT true,
    confidence real CHECK (confidence BETWEEN 0 AND 1),
    -- Offsets from the start of the call.
    start_ms   integer NOT NULL CHECK (start_ms >= 0),
    end_ms     integer NOT NULL,
    language   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at),
    CHECK (end_ms >= start_ms)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE voice_transcripts IS 'Speech-to-text and spoken-reply segments of calls, partitioned by month.';
CREATE INDEX voice_transcripts_org_created_idx ON voice_transcripts (org_id, created_at);
CREATE INDEX voice_transcripts_call_id_idx ON voice_transcripts (call_id, start_ms);
SELECT botrt_ensure_monthly_partitions('voice_transcripts', now() - interval '1 month', 5);

CREATE TABLE voice_recordings (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id                uuid NOT NULL REFERENCES voice_calls (id) ON DELETE CASCADE,
    provider_recording_sid text,
    storage_uri            text,
    format                 text NOT NULL DEFAULT 'wav' CHECK (format IN ('wav', 'mp3', 'ogg')),
    channels               smallint NOT NULL DEFAULT 1 CHECK (channels IN (1, 2)),
    duration_ms            integer CHECK (duration_ms >= 0),
    size_bytes             bigint CHECK (size_bytes >= 0),
    status                 text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'available', 'deleted')),
    retain_until           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'available' OR storage_uri IS NOT NULL)
);
COMMENT ON TABLE voice_recordings IS 'Call recordings: where the audio is stored and until when.';
CREATE INDEX voice_recordings_org_id_idx ON voice_recordings (org_id);
CREATE INDEX voice_recordings_call_id_idx ON voice_recordings (call_id);
