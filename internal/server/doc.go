// Package server is the composition root: it builds storage, audit, metrics
// and (in later issues) keys, connectors, limiter and handlers from a config,
// mounts the routes, and owns the HTTP server lifecycle. No other package
// knows every part.
package server
