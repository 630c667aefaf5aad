package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The document is YAML, where an unquoted one-line text ends early: in a flow mapping
// ({type: string, description: 2 digits, or empty}) at the first `, ` (the rest becomes a key of
// its own), anywhere at ` #` (the rest becomes a comment), and at `: ` (a parse error, or a
// mapping where a text was meant). Such a document still parses, but independent validators refuse
// it and readers of the generated docs get half a sentence. TestOpenAPIText reads the document as
// YAML does and fails on each of these, naming the line; scripts/test.sh also runs
// @redocly/cli lint and @apidevtools/swagger-parser on it.

// TestOpenAPIText: every description and summary of api/openapi.yaml is read whole, and no mapping
// holds a key that OpenAPI does not define there (what a split text leaves behind).
func TestOpenAPIText(t *testing.T) {
	for _, p := range openAPITextProblems(OpenAPI) {
		t.Error("api/openapi.yaml:" + p)
	}
}

// TestOpenAPITextCatches: the check finds each way YAML cuts a text short, and accepts the
// spellings that keep it whole.
func TestOpenAPITextCatches(t *testing.T) {
	bad := map[string]string{
		"comma in a flow mapping":   "a: {type: string, description: 2 digits, or empty for the national line.}\n",
		"comma before a word key":   "a: {type: string, description: First day, YYYY: 2}\n",
		"comment":                   "a:\n  type: string\n  description: the count #of codes\n",
		"mapping as a description":  "a:\n  description:\n    first: day\n",
		"colon in a block scalar":   "a:\n  description: see: below\n",
		"comma in a parameter":      "parameters:\n  - {name: from, in: query, description: First day, YYYY-MM-DD., schema: {type: string}}\n",
		"summary split in a flow":   "get: {summary: List, then filter, responses: {}}\n",
		"sequence as a description": "a: {type: string, description: [a, b]}\n",
		// A comment after a whole plain text cannot be told from one that cut it short.
		"comment after a whole text": "a:\n  description: the count of codes # a note\n  maxLength: 3\n",
	}
	for name, src := range bad {
		if got := openAPITextProblems(underProperties(src)); len(got) == 0 {
			t.Errorf("%s: %q passes; want a problem", name, src)
		}
	}
	good := []string{
		"a: {type: string, description: '2 digits, or empty for the national line.'}\n",
		"a: {type: string, description: \"First day: YYYY-MM-DD #1\"}\n",
		"a:\n  # a comment on its own line is fine\n  description: the count of codes\n  maxLength: 3\n",
		"a:\n  description: |\n    see: below, # not a comment\n",
		"a:\n  description: a long text\n    that goes on.\n",
		"a:\n  properties:\n    description: {type: string}\n    summary: {type: string, description: Its summary.}\n",
		"a: {type: string, example: {any: thing, at all: 1}, x-roles: {free: form}}\n",
		"a: {type: object, examples: [{any: {thing: 1}}]}\n",
		"r: {description: A response., content: {application/json: {examples: {one: {summary: 'One, two', value: {a b: 1}}}}}}\n",
	}
	for _, src := range good {
		if got := openAPITextProblems(underProperties(src)); len(got) > 0 {
			t.Errorf("%q: %v; want none", src, got)
		}
	}
}

// underProperties puts a snippet under `properties:`, where its top keys are names.
func underProperties(src string) []byte {
	return []byte("properties:\n  " + strings.ReplaceAll(strings.TrimSuffix(src, "\n"), "\n", "\n  ") + "\n")
}

// openAPITextProblems returns "line: what is wrong" for each text YAML cuts short in src.
func openAPITextProblems(src []byte) []string {
	f, err := parser.ParseBytes(src, parser.ParseComments)
	if err != nil {
		return []string{fmt.Sprintf("0: does not parse as YAML (a one-line text with `: ` must be quoted): %v", err)}
	}
	c := &textChecker{}
	for _, doc := range f.Docs {
		c.node(doc.Body, false)
	}
	return c.problems
}

type textChecker struct{ problems []string }

func (c *textChecker) add(n ast.Node, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%d: %s", n.GetToken().Position.Line, fmt.Sprintf(format, args...)))
}

// node checks n; named says whether n's keys are names chosen by the author (properties,
// paths, responses…) rather than OpenAPI fields.
func (c *textChecker) node(n ast.Node, named bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, kv := range v.Values {
			c.pair(kv, named)
		}
	case *ast.MappingValueNode: // a mapping of one pair
		c.pair(v, named)
	case *ast.SequenceNode:
		for _, e := range v.Values {
			c.node(e, named)
		}
	case *ast.AnchorNode:
		c.node(v.Value, named)
	case *ast.TagNode:
		c.node(v.Value, named)
	}
}

func (c *textChecker) pair(kv *ast.MappingValueNode, named bool) {
	key := kv.Key.String()
	if _, null := kv.Value.(*ast.NullNode); null {
		c.add(kv.Key, "%q has no value: a text before it (with `, ` in a flow mapping?) was split there; quote that text", key)
		return
	}
	if named {
		c.node(kv.Value, false) // a named property, path, response… is an object
		return
	}
	switch {
	case strings.HasPrefix(key, "x-") || freeForm[key]:
		return // any value is allowed: example data, extensions
	case !openAPIFields[key]:
		c.add(kv.Key, "%q is not an OpenAPI field: a text before it (with `, ` in a flow mapping?) was split there; quote that text", key)
		return
	case key == "description" || key == "summary":
		c.text(key, kv.Value)
		return
	}
	if _, seq := kv.Value.(*ast.SequenceNode); seq && key == "examples" {
		return // a schema's examples: data
	}
	if key == "security" {
		c.node(kv.Value, true) // requirement objects are keyed by scheme names
		return
	}
	c.node(kv.Value, namedMaps[key])
}

// text checks a description or summary: a string, and, when plain (unquoted), not followed by a
// comment on its line: YAML ends a plain text at ` #`.
func (c *textChecker) text(key string, v ast.Node) {
	switch s := v.(type) {
	case *ast.LiteralNode:
		return
	case *ast.StringNode:
		if s.Token.Type == token.StringType && s.GetComment() != nil {
			c.add(v, "the %s %q is followed by a comment: YAML cut it at ` #`; quote it", key, s.Value)
		}
	default:
		c.add(v, "the %s is a %s, not a text: a one-line text with `: ` or `, ` must be quoted", key, v.Type())
	}
}

// namedMaps are the fields whose mapping value is keyed by names, not by OpenAPI fields.
var namedMaps = map[string]bool{
	"paths": true, "webhooks": true, "properties": true, "patternProperties": true, "$defs": true,
	"dependentSchemas": true, "dependentRequired": true, "responses": true, "content": true,
	"schemas": true, "parameters": true, "headers": true, "examples": true, "securitySchemes": true,
	"requestBodies": true, "callbacks": true, "links": true, "encoding": true, "mapping": true,
	"variables": true, "scopes": true, "pathItems": true,
}

// freeForm are the fields whose value is data, not document structure.
var freeForm = map[string]bool{"example": true, "default": true, "const": true, "enum": true, "value": true}

// openAPIFields are the fixed fields of OpenAPI 3.1 objects and the JSON Schema 2020-12 keywords.
var openAPIFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`
		openapi info jsonSchemaDialect servers paths webhooks components security tags externalDocs
		title summary description termsOfService contact license version name url email identifier
		variables enum default schemas responses parameters examples requestBodies headers
		securitySchemes links callbacks pathItems $ref get put post delete options head patch trace
		operationId requestBody deprecated in required allowEmptyValue style explode allowReserved
		schema example content encoding contentType value externalValue operationRef server type
		scheme bearerFormat flows openIdConnectUrl implicit password clientCredentials
		authorizationCode authorizationUrl tokenUrl refreshUrl scopes discriminator propertyName
		mapping xml namespace prefix attribute wrapped
		$id $schema $anchor $dynamicRef $dynamicAnchor $defs $comment $vocabulary allOf anyOf oneOf
		not if then else dependentSchemas prefixItems items contains properties patternProperties
		additionalProperties propertyNames unevaluatedItems unevaluatedProperties const multipleOf
		maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern maxItems
		minItems uniqueItems maxContains minContains maxProperties minProperties dependentRequired
		format contentEncoding contentMediaType contentSchema readOnly writeOnly`) {
		m[f] = true
	}
	return m
}()
