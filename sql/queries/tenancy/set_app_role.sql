-- The runtime acts as botrt_app, to which row-level security applies.
SET ROLE botrt_app;
