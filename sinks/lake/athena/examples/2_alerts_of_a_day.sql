-- The alerts of one day, in the order they fired.
SELECT ts, symbol, kind, rule, observed, threshold, reference
FROM alerts
WHERE "date" = '2026-11-24'
ORDER BY ts, symbol, kind
