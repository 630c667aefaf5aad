// Package api embeds the OpenAPI document, served at /openapi.yaml and checked against the
// router by a test.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
