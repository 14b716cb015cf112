// Package metrics owns the Prometheus registry and the gateway-wide metrics
// (HTTP requests by route, audit events by type, build info). It is never
// global: the composition root creates one and passes it, or its
// Registerer, to the constructors that record metrics, so tests get
// isolated registries.
package metrics
