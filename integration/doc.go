// Package integration holds tests that need real servers the project starts
// itself (scripts/kafka, scripts/s3): a 3-broker Apache Kafka cluster in
// KRaft mode, a SASL_SSL cluster, Kafka 3.3.1 with ZooKeeper. They skip
// unless the scripts' environment is present; `make test` provides it.
package integration
