// Package sinks is where processed data leaves tickstream: the Parquet lake
// (sinks/lake) and alert delivery (sinks/alert). Sinks never change data; they
// encode, deliver and say when it is durable.
package sinks
