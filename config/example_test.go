package config_test

import (
	"fmt"

	"github.com/tickstream/tickstream/config"
)

func ExampleParse() {
	_, err := config.Parse([]byte(`
moving_average:
  ticks: 1
anomaly:
  overides: {}
`), "config.yaml")
	fmt.Println(err)
	// Output:
	// config.yaml:3: moving_average.ticks: must be in [2, 100000], got 1
	// config.yaml:5: anomaly.overides: unknown key (did you mean "overrides"?)
}

func ExampleConfig_AllSymbols() {
	c := config.Default()
	c.Symbols, c.SyntheticSymbols = []string{"AAPL", "MSFT"}, 2
	fmt.Println(c.AllSymbols())
	// Output: [AAPL MSFT SYN0001 SYN0002]
}
