// Package metrics owns the Prometheus registry. It is never global: the
// composition root creates one and passes it to the constructors that record
// metrics, so tests get isolated registries.
package metrics
