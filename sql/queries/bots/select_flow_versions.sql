-- Every stored version of a bot's main flow, oldest first.
SELECT version, checksum, graph FROM bot_flows WHERE bot_id = $1 AND name = 'main' ORDER BY version;
