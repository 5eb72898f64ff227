package athena_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/tickstream/tickstream/sinks/lake/athena"
)

func ExampleDDL() {
	ddl, err := athena.DDL(athena.Options{Location: "s3://my-bucket/lake", Database: "tickstream"})
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(ddl, "\n") {
		if strings.HasPrefix(line, "CREATE") || strings.HasPrefix(line, "LOCATION") {
			fmt.Println(line)
		}
	}
	// Output:
	// CREATE DATABASE IF NOT EXISTS `tickstream`;
	// CREATE EXTERNAL TABLE IF NOT EXISTS `tickstream`.`raw` (
	// LOCATION 's3://my-bucket/lake/raw/'
	// CREATE EXTERNAL TABLE IF NOT EXISTS `tickstream`.`processed` (
	// LOCATION 's3://my-bucket/lake/processed/'
	// CREATE EXTERNAL TABLE IF NOT EXISTS `tickstream`.`alerts` (
	// LOCATION 's3://my-bucket/lake/alerts/'
	// CREATE EXTERNAL TABLE IF NOT EXISTS `tickstream`.`predictions` (
	// LOCATION 's3://my-bucket/lake/predictions/'
}

func ExampleExamples() {
	ex, err := athena.Examples()
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range ex {
		fmt.Println(e.Name)
	}
	// Output:
	// 1_daily_ohlcv
	// 2_alerts_of_a_day
	// 3_ma_vs_price
}
