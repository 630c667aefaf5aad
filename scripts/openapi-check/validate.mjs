// Validates an OpenAPI document with @apidevtools/swagger-parser (structure against the official
// OpenAPI schema, then every $ref resolved). Exits 1, printing the reasons, when it is invalid.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs OPENAPI.yaml");
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(file);
  console.log(`${file}: valid (${api.info.title} ${api.info.version}, OpenAPI ${api.openapi})`);
} catch (err) {
  console.error(`${file}: invalid: ${err.message}`);
  process.exit(1);
}
