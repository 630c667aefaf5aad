package procurement

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// CallbackHandler serves POST /api/v1/payments/callback: public, authenticated by the signature.
type CallbackHandler struct {
	orders *Orders
	secret []byte
	log    *slog.Logger
}

// NewCallbackHandler builds the handler; secret is PAYMENT_CALLBACK_SECRET.
func NewCallbackHandler(orders *Orders, secret string, log *slog.Logger) *CallbackHandler {
	return &CallbackHandler{orders: orders, secret: []byte(secret), log: log}
}

// Register adds the callback route (no bearer token: the provider signs instead).
func (h *CallbackHandler) Register(r gin.IRoutes) {
	r.POST("/api/v1/payments/callback", h.callback)
}

func (h *CallbackHandler) callback(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpx.Fail(c, apperr.Invalid(apperr.Field("body", "could not be read")))
		return
	}
	got := c.GetHeader(SignatureHeader)
	if !strings.HasPrefix(got, "sha256=") || !hmac.Equal([]byte(got), []byte(Sign(h.secret, body))) {
		h.log.Warn("payment callback refused: bad signature", "request_id", httpx.RequestID(c))
		// 422 naming the header, as for any other bad header: the route is public, and the
		// signature, not a bearer token, is its credential.
		httpx.Fail(c, apperr.Invalid(apperr.Field(SignatureHeader, "must be sha256=<hex HMAC-SHA256 of the raw body under the shared secret>; this one does not verify")))
		return
	}
	var cb Callback
	// Decoded leniently (not httpx.Bind): a provider may add fields of its own to the callback.
	if err := json.Unmarshal(body, &cb); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			httpx.Fail(c, httpx.TypeProblem(typeErr))
			return
		}
		if strings.Contains(err.Error(), "UUID") { // uuid.UUID's own parse error: order_id is the callback's only id
			httpx.Fail(c, apperr.Invalid(apperr.Field("order_id", httpx.UUIDProblem)))
			return
		}
		httpx.Fail(c, apperr.Invalid(apperr.Field("body", "must be a JSON object with order_id, provider_ref, amount_fen and status")))
		return
	}
	outcome, err := h.orders.PaymentCallback(c.Request.Context(), cb)
	if err != nil {
		if e, ok := apperr.As(err); ok && (e.Kind == apperr.KindNotFound || e.Kind == apperr.KindConflict) {
			h.log.Warn("payment callback refused", "order_id", cb.OrderID, "provider_ref", cb.ProviderRef, "reason", e.Msg,
				"request_id", httpx.RequestID(c))
		}
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order_id": cb.OrderID, "outcome": outcome})
}
