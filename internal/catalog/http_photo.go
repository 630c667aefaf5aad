package catalog

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// PhotoRoute is the photo's route pattern: the app lists it among the multipart routes and
// lets its bodies be as large as MaxPhotoBody.
const PhotoRoute = "/api/v1/products/:id/photo"

// MaxPhotoBody bounds the whole multipart body of an upload: the photo and room for the part's
// headers and boundaries, so that a photo of exactly MaxPhotoBytes fits.
const MaxPhotoBody = MaxPhotoBytes + 64<<10

// RegisterPhotos adds the photo routes: changes for staff, the image for anyone.
func (h *Handler) RegisterPhotos(public, authed gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	authed.PUT(PhotoRoute, staff, h.putPhoto)
	authed.DELETE(PhotoRoute, staff, h.deletePhoto)
	public.GET(PhotoRoute, h.getPhoto)
}

// putPhoto answers PUT /api/v1/products/{id}/photo: multipart/form-data field "file".
func (h *Handler) putPhoto(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			httpx.Fail(c, err)
			return
		}
		httpx.Fail(c, apperr.Invalid(apperr.Field("file", "upload the photo (JPEG or PNG, at most 5 MiB) as multipart/form-data field \"file\"")))
		return
	}
	if fh.Size > MaxPhotoBytes {
		httpx.Fail(c, &apperr.Error{Kind: apperr.KindTooLarge, Msg: "the photo is larger than 5 MiB; send a smaller one",
			Fields: []apperr.FieldError{apperr.Field("file", "is %d bytes; at most %d (5 MiB)", fh.Size, MaxPhotoBytes)}})
		return
	}
	f, err := fh.Open()
	if err != nil {
		httpx.Fail(c, apperr.Invalid(apperr.Field("file", "cannot be read: send it again")))
		return
	}
	defer f.Close()
	upload, err := io.ReadAll(io.LimitReader(f, MaxPhotoBytes+1))
	if err != nil {
		httpx.Fail(c, apperr.Invalid(apperr.Field("file", "cannot be read: send it again")))
		return
	}
	p, err := h.svc.SetPhoto(c.Request.Context(), auth.MustFrom(c), id, upload)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (h *Handler) deletePhoto(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	if err := h.svc.DeletePhoto(c.Request.Context(), auth.MustFrom(c), id); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// getPhoto serves the photo (size=thumb: the thumbnail). Asked for with the current version
// (?v=, as photo_url gives it) it may be kept a year, since a new photo has a new URL; otherwise
// it is revalidated on every use (ETag, 304).
func (h *Handler) getPhoto(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var thumb bool
	switch c.Query("size") {
	case "", "full":
	case "thumb":
		thumb = true
	default:
		httpx.Fail(c, httpx.BadParam("size", "full or thumb"))
		return
	}
	body, etag, err := h.svc.PhotoFile(c.Request.Context(), id, thumb)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	tag := strconv.Quote(etag)
	if thumb {
		tag = strconv.Quote(etag + "-thumb")
	}
	c.Header("ETag", tag)
	if c.Query("v") == etag {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "public, no-cache")
	}
	c.Header("X-Content-Type-Options", "nosniff")
	if match := c.GetHeader("If-None-Match"); match != "" && etagMatches(match, tag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "image/jpeg", body)
}

// etagMatches applies If-None-Match (RFC 9110 13.1.2: weak comparison, a list, or *).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
