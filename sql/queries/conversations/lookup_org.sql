SELECT botrt_lookup_conversation($1);
