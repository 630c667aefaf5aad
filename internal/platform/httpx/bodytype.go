package httpx

import (
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// BodyTypes refuses a POST, PUT or PATCH body of a type the route does not take with a 415
// problem naming the Content-Type header, before any handler (or authentication) runs. Every
// route takes JSON (application/json, in UTF-8 when a charset is given); the routes named in
// multipart (gin route patterns) take multipart/form-data instead, and only that.
//
// Why: a handler that decodes whatever arrives would act on a text/plain or form-encoded body
// (creating a household from it), and those are the types a cross-site HTML form can send
// without a preflight. A request without a body is not checked; one with a body and no
// Content-Type is refused. Unknown paths are left to the 404.
func BodyTypes(multipart ...string) gin.HandlerFunc {
	upload := make(map[string]bool, len(multipart))
	for _, r := range multipart {
		upload[r] = true
	}
	return func(c *gin.Context) {
		req := c.Request
		if (req.Method != http.MethodPost && req.Method != http.MethodPut && req.Method != http.MethodPatch) ||
			c.FullPath() == "" || !hasBody(req) {
			c.Next()
			return
		}
		want := "application/json"
		if upload[c.FullPath()] {
			want = "multipart/form-data"
		}
		got := req.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(got)
		switch enc := req.Header.Get("Content-Encoding"); {
		case enc != "" && !strings.EqualFold(enc, "identity"):
			// Nothing here decompresses a body: it would be read as JSON and refused at byte 1.
			WriteProblem(c, &apperr.Error{Kind: apperr.KindUnsupportedType,
				Msg:    "the request body is not of a type this operation takes; send it uncompressed",
				Fields: []apperr.FieldError{apperr.Field("Content-Encoding", "is %s; request bodies are taken uncompressed (leave the header out)", enc)}})
		case got == "":
			refuseType(c, "is missing; send Content-Type: "+want)
		case err != nil:
			refuseType(c, "%q cannot be parsed; send Content-Type: %s", got, want)
		case mt != want:
			refuseType(c, "is %s; this operation takes %s", mt, want)
		case want == "application/json" && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
			refuseType(c, "names charset %s; JSON bodies are UTF-8 (send charset=utf-8 or none)", params["charset"])
		default:
			c.Next()
		}
	}
}

// hasBody reports whether the request carries a body (a declared length, or chunked).
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

func refuseType(c *gin.Context, reason string, args ...any) {
	WriteProblem(c, &apperr.Error{Kind: apperr.KindUnsupportedType,
		Msg:    "the request body is not of a type this operation takes; fix the Content-Type header and the body",
		Fields: []apperr.FieldError{apperr.Field("Content-Type", reason, args...)}})
}
