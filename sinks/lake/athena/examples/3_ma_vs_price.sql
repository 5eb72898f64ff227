-- Price against its 300-tick moving average, minute by minute, for one symbol:
-- the last price and average of each minute, and how far the price is above it.
SELECT date_trunc('minute', ts)                                   AS minute,
       max_by(price, ts)                                          AS price,
       max_by(ma, ts)                                             AS ma,
       round(100 * (max_by(price, ts) / max_by(ma, ts) - 1), 3)   AS pct_above_ma
FROM processed
WHERE symbol = 'AAPL' AND "date" = '2026-11-24'
GROUP BY 1
ORDER BY 1
