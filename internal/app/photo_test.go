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
	"github.com/fupinmarket/fupin/internal/fixture"
)

// photoUpload sends content as multipart/form-data field "file" with PUT.
func photoUpload(c fixture.Client, product string, content []byte) fixture.Resp {
	c.T.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "photo.bin")
	if err != nil {
		c.T.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return c.Do("PUT", "/api/v1/products/"+product+"/photo", body.Bytes(), "Content-Type", mw.FormDataContentType())
}

// TestProductPhotoOverHTTP: a station sets its product's photo (a PNG made here, stored as JPEG),
// which is then served publicly with an ETag and shown in the catalogue and on the scan page; bad
// uploads are refused with the status and the field the console shows.
func TestProductPhotoOverHTTP(t *testing.T) {
	w := newWorld(t)
	anon := fixture.Client{T: t, H: w.a.Router}
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
	w.OpA.Do("GET", "/api/v1/products/"+w.Product, nil).Want(200).JSON(&p)
	if p.PhotoURL != nil {
		t.Fatalf("a new product has photo_url %q", *p.PhotoURL)
	}
	photoUpload(w.OpA, w.Product, pngBytes.Bytes()).Want(200).JSON(&p)
	if p.PhotoURL == nil || !strings.HasPrefix(*p.PhotoURL, "/api/v1/products/"+w.Product+"/photo?v=") {
		t.Fatalf("photo_url %v", p.PhotoURL)
	}
	url := *p.PhotoURL

	got := anon.Do("GET", url, nil).Want(200)
	if ct, cc := got.Header().Get("Content-Type"), got.Header().Get("Cache-Control"); ct != "image/jpeg" || !strings.Contains(cc, "immutable") {
		t.Errorf("photo served as %q, %q", ct, cc)
	}
	stored, err := jpeg.Decode(bytes.NewReader(got.Body.Bytes()))
	if err != nil || stored.Bounds().Dx() != 1200 || stored.Bounds().Dy() != 750 {
		t.Fatalf("served photo: %v, %v", err, stored)
	}
	etag := got.Header().Get("ETag")
	anon.Do("GET", url, nil, "If-None-Match", etag).Want(304)
	if cc := anon.Do("GET", "/api/v1/products/"+w.Product+"/photo", nil).Want(200).Header().Get("Cache-Control"); cc != "public, no-cache" {
		t.Errorf("unversioned photo cached as %q", cc)
	}
	thumb := anon.Do("GET", url+"&size=thumb", nil).Want(200)
	if small, err := jpeg.Decode(bytes.NewReader(thumb.Body.Bytes())); err != nil || small.Bounds().Dx() != catalog.ThumbSide {
		t.Errorf("thumbnail: %v", err)
	}
	anon.Do("GET", url+"&size=huge", nil).Problem(422, "size")

	// Shown in the catalogue and on the scan page (whose cached views the new photo dropped).
	var page struct {
		Products []struct {
			ID       string
			PhotoURL *string `json:"photo_url"`
		}
	}
	w.Buyer1.Do("GET", "/api/v1/catalog/products?certified=any&station_id="+w.StationA, nil).Want(200).JSON(&page)
	found := false
	for _, it := range page.Products {
		found = found || (it.ID == w.Product && it.PhotoURL != nil && *it.PhotoURL == url)
	}
	if !found {
		t.Errorf("the catalogue does not show the photo of %s: %+v", w.Product, page.Products)
	}
	code := w.Issue(t, w.Product, 1)[0]
	var view struct {
		Product struct {
			PhotoURL string `json:"photo_url"`
		}
	}
	anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&view)
	if view.Product.PhotoURL != url {
		t.Errorf("trace view photo_url %q, want %q", view.Product.PhotoURL, url)
	}
	if html := anon.Do("GET", "/t/"+code, nil).Want(200).Body.String(); !strings.Contains(html, `id="photo" src="`+strings.ReplaceAll(url, "&", "&amp;")) {
		t.Errorf("the scan page shows no photo")
	}

	// Refusals, each with the field to fix.
	tooBig := make([]byte, catalog.MaxPhotoBytes+1)
	copy(tooBig, pngBytes.Bytes())
	photoUpload(w.OpA, w.Product, tooBig).Problem(413, "file")
	photoUpload(w.OpA, w.Product, []byte("GIF89a not a photo")).Problem(415, "file")
	photoUpload(w.OpA, w.Product, pngBytes.Bytes()[:200]).Problem(422, "file")
	w.OpA.Do("PUT", "/api/v1/products/"+w.Product+"/photo", map[string]string{"file": "x"}).Problem(415, "Content-Type")
	photoUpload(w.OpB, w.Product, pngBytes.Bytes()).Problem(404, "")
	photoUpload(w.Buyer1, w.Product, pngBytes.Bytes()).Problem(403, "")
	anon.Do("GET", url, nil).Want(200) // unchanged by the refusals

	w.OpA.Do("DELETE", "/api/v1/products/"+w.Product+"/photo", nil).Want(204)
	anon.Do("GET", url, nil).Problem(404, "")
	w.OpA.Do("GET", "/api/v1/products/"+w.Product, nil).Want(200).JSON(&p)
	if p.PhotoURL != nil {
		t.Errorf("after DELETE photo_url is %q", *p.PhotoURL)
	}
}
