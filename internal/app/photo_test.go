package app

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/catalog"
)

// photoUpload sends content as multipart/form-data field "file" with PUT.
func photoUpload(c client, product string, content []byte) resp {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "photo.bin")
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return c.do("PUT", "/api/v1/products/"+product+"/photo", body.Bytes(), "Content-Type", mw.FormDataContentType())
}

// TestProductPhotoOverHTTP: a station sets its product's photo (a PNG made here, stored as JPEG),
// which is then served publicly with an ETag and shown in the catalogue and on the scan page; bad
// uploads are refused with the status and the field the console shows.
func TestProductPhotoOverHTTP(t *testing.T) {
	w := newWorld(t)
	anon := client{t: t, h: w.a.Router}
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1000))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}

	var p struct {
		PhotoURL *string `json:"photo_url"`
	}
	w.opA.do("GET", "/api/v1/products/"+w.product, nil).want(200).json(&p)
	if p.PhotoURL != nil {
		t.Fatalf("a new product has photo_url %q", *p.PhotoURL)
	}
	photoUpload(w.opA, w.product, pngBytes.Bytes()).want(200).json(&p)
	if p.PhotoURL == nil || !strings.HasPrefix(*p.PhotoURL, "/api/v1/products/"+w.product+"/photo?v=") {
		t.Fatalf("photo_url %v", p.PhotoURL)
	}
	url := *p.PhotoURL

	got := anon.do("GET", url, nil).want(200)
	if ct, cc := got.Header().Get("Content-Type"), got.Header().Get("Cache-Control"); ct != "image/jpeg" || !strings.Contains(cc, "immutable") {
		t.Errorf("photo served as %q, %q", ct, cc)
	}
	stored, err := jpeg.Decode(bytes.NewReader(got.Body.Bytes()))
	if err != nil || stored.Bounds().Dx() != 1200 || stored.Bounds().Dy() != 750 {
		t.Fatalf("served photo: %v, %v", err, stored)
	}
	etag := got.Header().Get("ETag")
	anon.do("GET", url, nil, "If-None-Match", etag).want(304)
	if cc := anon.do("GET", "/api/v1/products/"+w.product+"/photo", nil).want(200).Header().Get("Cache-Control"); cc != "public, no-cache" {
		t.Errorf("unversioned photo cached as %q", cc)
	}
	thumb := anon.do("GET", url+"&size=thumb", nil).want(200)
	if small, err := jpeg.Decode(bytes.NewReader(thumb.Body.Bytes())); err != nil || small.Bounds().Dx() != catalog.ThumbSide {
		t.Errorf("thumbnail: %v", err)
	}
	anon.do("GET", url+"&size=huge", nil).problem(422, "size")

	// Shown in the catalogue and on the scan page (whose cached views the new photo dropped).
	var page struct {
		Products []struct {
			ID       string
			PhotoURL *string `json:"photo_url"`
		}
	}
	w.buyer1.do("GET", "/api/v1/catalog/products?certified=any&station_id="+w.stationA, nil).want(200).json(&page)
	found := false
	for _, it := range page.Products {
		found = found || (it.ID == w.product && it.PhotoURL != nil && *it.PhotoURL == url)
	}
	if !found {
		t.Errorf("the catalogue does not show the photo of %s: %+v", w.product, page.Products)
	}
	code := w.issue(t, w.product, 1)[0]
	var view struct {
		Product struct {
			PhotoURL string `json:"photo_url"`
		}
	}
	anon.do("GET", "/api/v1/trace/"+code, nil).want(200).json(&view)
	if view.Product.PhotoURL != url {
		t.Errorf("trace view photo_url %q, want %q", view.Product.PhotoURL, url)
	}
	if html := anon.do("GET", "/t/"+code, nil).want(200).Body.String(); !strings.Contains(html, `id="photo" src="`+strings.ReplaceAll(url, "&", "&amp;")) {
		t.Errorf("the scan page shows no photo")
	}

	// Refusals, each with the field to fix.
	tooBig := make([]byte, catalog.MaxPhotoBytes+1)
	copy(tooBig, pngBytes.Bytes())
	photoUpload(w.opA, w.product, tooBig).problem(413, "file")
	photoUpload(w.opA, w.product, []byte("GIF89a not a photo")).problem(415, "file")
	photoUpload(w.opA, w.product, pngBytes.Bytes()[:200]).problem(422, "file")
	w.opA.do("PUT", "/api/v1/products/"+w.product+"/photo", map[string]string{"file": "x"}).problem(415, "Content-Type")
	photoUpload(w.opB, w.product, pngBytes.Bytes()).problem(404, "")
	photoUpload(w.buyer1, w.product, pngBytes.Bytes()).problem(403, "")
	anon.do("GET", url, nil).want(200) // unchanged by the refusals

	w.opA.do("DELETE", "/api/v1/products/"+w.product+"/photo", nil).want(204)
	anon.do("GET", url, nil).problem(404, "")
	w.opA.do("GET", "/api/v1/products/"+w.product, nil).want(200).json(&p)
	if p.PhotoURL != nil {
		t.Errorf("after DELETE photo_url is %q", *p.PhotoURL)
	}
}
