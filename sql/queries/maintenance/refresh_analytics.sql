-- REFRESH MATERIALIZED VIEW CONCURRENTLY for every analytics view.
SELECT view_name, refreshed_concurrently
  FROM botrt_refresh_analytics();
