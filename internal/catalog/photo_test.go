package catalog

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// photoOf draws a w×h picture: red top-left quarter, blue elsewhere, so turns and flips show.
func photoOf(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{0, 0, 255, 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif puts an APP1 EXIF block holding Orientation o right after the JPEG's SOI marker, in
// the given TIFF byte order, with a camera maker's name that must not survive.
func withExif(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II*\x00")
	} else {
		tiff.WriteString("MM\x00*")
	}
	binary.Write(&tiff, bo, uint32(8))
	binary.Write(&tiff, bo, uint16(2)) // two entries
	// Make (0x010f), ASCII, 8 bytes at offset 38
	binary.Write(&tiff, bo, []uint16{0x010f, 2})
	binary.Write(&tiff, bo, []uint32{8, 38})
	// Orientation (0x0112), SHORT, 1 value, inline
	binary.Write(&tiff, bo, []uint16{0x0112, 3})
	binary.Write(&tiff, bo, uint32(1))
	binary.Write(&tiff, bo, []uint16{o, 0})
	binary.Write(&tiff, bo, uint32(0)) // no next IFD
	tiff.WriteString("SECRETC\x00")
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0, 0}, seg...)
	binary.BigEndian.PutUint16(out[4:], uint16(len(seg)+2))
	return append(out, jpg[2:]...)
}

// pngHeader is a PNG that declares w×h 8-bit grey pixels and holds idat as its data.
func pngHeader(w, h uint32, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(kind)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", idat)
	chunk("IEND", nil)
	return b.Bytes()
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("stored photo is not a JPEG: %v", err)
	}
	return img
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xc000 && g < 0x4000 && b < 0x4000
}

func TestPhotoShrunkAndReencoded(t *testing.T) {
	ph, err := processPhoto(context.Background(), withExif(jpegOf(t, photoOf(2400, 1800)), 1, binary.BigEndian))
	if err != nil {
		t.Fatal(err)
	}
	if ph.Width != 1200 || ph.Height != 900 {
		t.Errorf("stored %d×%d, want 1200×900", ph.Width, ph.Height)
	}
	full := decodeJPEG(t, ph.JPEG)
	if b := full.Bounds(); b.Dx() != 1200 || b.Dy() != 900 || !isRed(full.At(100, 100)) || isRed(full.At(1100, 800)) {
		t.Errorf("photo %v: top-left %v, bottom-right %v", b, full.At(100, 100), full.At(1100, 800))
	}
	if b := decodeJPEG(t, ph.Thumb).Bounds(); b.Dx() != 360 || b.Dy() != 270 {
		t.Errorf("thumbnail %v, want 360×270", b.Size())
	}
	if bytes.Contains(ph.JPEG, []byte("Exif")) || bytes.Contains(ph.JPEG, []byte("SECRETC")) {
		t.Error("the upload's EXIF block survived re-encoding")
	}
	if len(ph.ETag) != 20 {
		t.Errorf("etag %q", ph.ETag)
	}
	// A small photo is not enlarged.
	ph, err = processPhoto(context.Background(), pngOf(t, photoOf(300, 200)))
	if err != nil || ph.Width != 300 || ph.Height != 200 {
		t.Errorf("300×200 PNG stored as %d×%d (%v)", ph.Width, ph.Height, err)
	}
}

func TestPhotoTransparentOnWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64)) // all transparent
	ph, err := processPhoto(context.Background(), pngOf(t, img))
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := decodeJPEG(t, ph.JPEG).At(10, 10).RGBA()
	if r < 0xf000 || g < 0xf000 || b < 0xf000 {
		t.Errorf("transparent pixel stored as %x,%x,%x, want white", r, g, b)
	}
}

// A phone's portrait photo is stored sideways with Orientation 6 (turn 90° clockwise to view):
// the stored photo must be upright, the red quarter (top-left as stored) at the top right.
func TestPhotoTurnedUprightByExif(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		for o, redAt := range map[uint16]image.Point{1: {20, 10}, 3: {180, 90}, 6: {80, 20}, 8: {20, 180}} {
			ph, err := processPhoto(context.Background(), withExif(jpegOf(t, photoOf(200, 100)), o, bo))
			if err != nil {
				t.Fatal(err)
			}
			img := decodeJPEG(t, ph.JPEG)
			want := image.Pt(200, 100)
			if o >= 5 {
				want = image.Pt(100, 200)
			}
			if img.Bounds().Size() != want || !isRed(img.At(redAt.X, redAt.Y)) {
				t.Errorf("%v orientation %d: %v, red at %v? %v", bo, o, img.Bounds().Size(), redAt, img.At(redAt.X, redAt.Y))
			}
		}
	}
	if got := exifOrientation(jpegOf(t, photoOf(8, 8))); got != 1 {
		t.Errorf("a JPEG without EXIF has orientation %d", got)
	}
}

func TestPhotoRefusals(t *testing.T) {
	ctx := context.Background()
	good := pngOf(t, photoOf(40, 30))
	var gifBytes bytes.Buffer
	if err := gif.Encode(&gifBytes, photoOf(10, 10), nil); err != nil {
		t.Fatal(err)
	}
	// A bomb: 6000×5000 = 30 megapixels of grey zeros in a few kilobytes.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	row := make([]byte, 6001)
	for i := 0; i < 5000; i++ {
		zw.Write(row)
	}
	zw.Close()
	bomb := pngHeader(6000, 5000, z.Bytes())
	if len(bomb) > 100_000 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	huge := make([]byte, MaxPhotoBytes+1)
	copy(huge, good)
	cases := []struct {
		name   string
		upload []byte
		kind   apperr.Kind
	}{
		{"GIF", gifBytes.Bytes(), apperr.KindUnsupportedType},
		{"text", []byte("这不是图片"), apperr.KindUnsupportedType},
		{"empty", nil, apperr.KindUnsupportedType},
		{"JPEG header then noise", append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0x42}, 500)...), apperr.KindInvalid},
		{"PNG cut short", good[:len(good)/2], apperr.KindInvalid},
		{"PNG bomb of 30 megapixels", bomb, apperr.KindInvalid},
		{"PNG claiming 100000×100000", pngHeader(100000, 100000, []byte{1, 2, 3}), apperr.KindInvalid},
		{"5 MiB and one byte", huge, apperr.KindTooLarge},
	}
	for _, c := range cases {
		_, err := processPhoto(ctx, c.upload)
		e, ok := apperr.As(err)
		if !ok || e.Kind != c.kind || len(e.Fields) != 1 || e.Fields[0].Field != "file" {
			t.Errorf("%s: %v, want kind %v naming file", c.name, err, c.kind)
		}
	}
}
