// Package browser tests the live dashboard in a real browser: it runs
// `tickstream run` on the embedded default (1000 symbols, in-process broker,
// simulator) and drives headless Chromium through chromedp against it. It
// holds tests only. They skip unless TICKSTREAM_CHROMIUM names a Chromium
// binary (scripts/test-browser.sh sets it), and need the UI built first
// (`make ui`), since the binary embeds it.
package browser
