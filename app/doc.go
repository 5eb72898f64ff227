// Package app wires tickstream's commands from config: it builds the Kafka
// clients, the lake, the feeds and the engine, and runs them as one group
// that stops together. It holds no stream logic of its own.
package app
