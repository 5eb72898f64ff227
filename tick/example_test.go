package tick_test

import (
	"fmt"

	"github.com/tickstream/tickstream/tick"
)

func ExampleDecoder_Decode() {
	d := tick.NewDecoder([]string{"AAPL", "BRK.B"}, 1<<10)
	var t tick.Tick
	err := d.Decode([]byte("AAPL"), []byte(`{"symbol":"AAPL","ts":"2026-11-25T12:58:12.123-05:00","price":189.42,"volume":1200}`), &t)
	fmt.Printf("%+v %v\n", t, err)

	err = d.Decode(nil, []byte(`{"symbol":"AAPL","ts":1795629492,"price":189.42,"volume":1200}`), &t)
	fmt.Printf("%s: %v\n", tick.ReasonOf(err), err)
	// Output:
	// {Symbol:AAPL TS:1795629492123 Price:189.42 Volume:1200 Bid:0 Ask:0} <nil>
	// bad_timestamp: ts: 1795629492 is before 2000-01-01; it looks like epoch SECONDS: ts must be epoch milliseconds (seconds × 1000)
}

func ExampleAppendJSON() {
	t := tick.Tick{Symbol: "BRK.B", TS: 1795629492123, Price: 471.05, Volume: 12.5, Ask: 471.1}
	fmt.Printf("%s\n", tick.AppendJSON(nil, &t))
	// Output:
	// {"symbol":"BRK.B","ts":1795629492123,"price":471.05,"volume":12.5,"ask":471.1}
}
