-- Daily OHLCV per symbol: open and close are the first and last price of the day.
SELECT symbol,
       "date",
       min_by(price, ts) AS open,
       max(price)        AS high,
       min(price)        AS low,
       max_by(price, ts) AS close,
       sum(volume)       AS volume,
       count(*)          AS ticks
FROM processed
WHERE "date" BETWEEN '2026-11-23' AND '2026-11-24'
GROUP BY symbol, "date"
ORDER BY symbol, "date"
