SELECT name, ciphertext FROM channel_credentials WHERE channel_id = $1;
