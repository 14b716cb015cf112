// Package config owns the configuration file: strict YAML decoding, secret
// references (${NAME} and *_file twins), defaults, and a Validate that lists
// every problem at once with its field path, including the production safety
// checks of SPEC HD-3.
package config
