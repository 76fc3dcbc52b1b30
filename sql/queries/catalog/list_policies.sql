-- Row-level security policies of the public schema.
SELECT tablename AS table_name, policyname AS name, cmd AS command, roles::text[] AS roles,
       qual AS using_expression, with_check AS check_expression
  FROM pg_policies
 WHERE schemaname = 'public'
 ORDER BY tablename, policyname;
