package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"time"

	"github.com/google/uuid"
	"golang.org/x/image/draw"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
)

// Limits on a product photo. An upload is at most MaxPhotoBytes; its declared size is checked
// before any pixel is decoded, so that a small file claiming a huge image (a "PNG bomb") costs
// nothing: MaxPhotoPixels is a 24-megapixel camera's 6000×4000 with room to spare, and decoding
// that much takes up to 8 bytes a pixel (16-bit PNG), which is why photos are processed one at a
// time (photoSlot).
const (
	MaxPhotoBytes  = 5 << 20 // 5 MiB
	MaxPhotoPixels = 25_000_000
	// PhotoSide and ThumbSide bound the longer side of what is stored: the photo for a product's
	// page and the scan page, the thumbnail for the catalogue's lists (2× a 180 px tile).
	PhotoSide    = 1200
	ThumbSide    = 360
	photoQuality = 82
)

// photoSlot lets one photo be decoded at a time in this process (see MaxPhotoPixels).
var photoSlot = make(chan struct{}, 1)

// Photo is a product's stored photo: JPEG renditions re-encoded on the server (no metadata of the
// upload survives), the full one's size in pixels, and ETag, a hash of both renditions.
type Photo struct {
	ProductID uuid.UUID `gorm:"primaryKey"`
	JPEG      []byte    `gorm:"column:jpeg"`
	Thumb     []byte
	Width     int
	Height    int
	ETag      string `gorm:"column:etag"`
	UpdatedAt time.Time
}

// TableName maps Photo to product_photos.
func (Photo) TableName() string { return "product_photos" }

// PhotoPath is where a product's photo is served; v changes with the photo, so that a page
// holding the path shows a new photo at once while the old one stays cached.
func PhotoPath(id uuid.UUID, etag string) string {
	return "/api/v1/products/" + id.String() + "/photo?v=" + etag
}

// SetPhoto replaces a product's photo with the uploaded JPEG or PNG, re-encoded as JPEG and
// shrunk to fit PhotoSide (and ThumbSide for the thumbnail), turned upright by its EXIF
// orientation, on white where it was transparent. It returns the product with its new photo_url.
// Errors: TooLarge (over MaxPhotoBytes), UnsupportedType naming "file" (neither JPEG nor PNG),
// Invalid naming "file" (undecodable, or more than MaxPhotoPixels), NotFound (also another
// station's product), Forbidden (buyers).
func (s *Service) SetPhoto(ctx context.Context, p auth.Principal, id uuid.UUID, upload []byte) (Product, error) {
	if p.Role == auth.RoleBuyer {
		return Product{}, apperr.Forbidden("buyers cannot change products")
	}
	if err := s.inScope(ctx, p, id); err != nil {
		return Product{}, err
	}
	ph, err := processPhoto(ctx, upload)
	if err != nil {
		return Product{}, err
	}
	ph.ProductID, ph.UpdatedAt = id, time.Now().UTC()
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&ph).Error
	})
	if err != nil {
		return Product{}, apperr.DB(err, "product")
	}
	return s.Get(ctx, p, id)
}

// DeletePhoto removes a product's photo (none is not an error). Errors: NotFound (also another
// station's product), Forbidden (buyers).
func (s *Service) DeletePhoto(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	if p.Role == auth.RoleBuyer {
		return apperr.Forbidden("buyers cannot change products")
	}
	if err := s.inScope(ctx, p, id); err != nil {
		return err
	}
	return apperr.DB(s.db.WithContext(ctx).Where("product_id = ?", id).Delete(&Photo{}).Error, "product")
}

// PhotoFile returns a product's stored photo, or its thumbnail, with the ETag. Photos are public,
// like the scan page that shows them. Errors: NotFound (no such product, or no photo).
func (s *Service) PhotoFile(ctx context.Context, id uuid.UUID, thumb bool) (body []byte, etag string, err error) {
	col := "jpeg"
	if thumb {
		col = "thumb"
	}
	var ph Photo
	err = s.db.WithContext(ctx).Select(col, "etag").Take(&ph, "product_id = ?", id).Error
	if err != nil {
		return nil, "", apperr.DB(err, "photo")
	}
	if thumb {
		return ph.Thumb, ph.ETag, nil
	}
	return ph.JPEG, ph.ETag, nil
}

// PhotoURL returns the path of a product's photo (PhotoPath), or "" when it has none: what the
// scan page shows.
func (s *Service) PhotoURL(ctx context.Context, id uuid.UUID) (string, error) {
	urls, err := s.photoURLs(ctx, []uuid.UUID{id})
	return urls[id], err
}

// photoURLs maps each of ids that has a photo to its PhotoPath.
func (s *Service) photoURLs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Photo
	err := s.db.WithContext(ctx).Select("product_id", "etag").Where("product_id IN ?", ids).Find(&rows).Error
	for _, r := range rows {
		out[r.ProductID] = PhotoPath(r.ProductID, r.ETag)
	}
	return out, apperr.DB(err, "photo")
}

// inScope checks that p may change product id. Errors: NotFound (also out of scope).
func (s *Service) inScope(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	var n int64
	err := scoped(s.db.WithContext(ctx).Model(&Product{}), p).Where("id = ?", id).Count(&n).Error
	if err == nil && n == 0 {
		err = gorm.ErrRecordNotFound
	}
	return apperr.DB(err, "product")
}

// processPhoto checks, decodes and re-encodes an upload (see SetPhoto).
func processPhoto(ctx context.Context, upload []byte) (Photo, error) {
	if len(upload) > MaxPhotoBytes {
		return Photo{}, &apperr.Error{Kind: apperr.KindTooLarge, Msg: "the photo is larger than 5 MiB; send a smaller one",
			Fields: []apperr.FieldError{apperr.Field("file", "is %d bytes; at most %d (5 MiB)", len(upload), MaxPhotoBytes)}}
	}
	var format string
	switch {
	case bytes.HasPrefix(upload, []byte("\xff\xd8\xff")):
		format = "jpeg"
	case bytes.HasPrefix(upload, []byte("\x89PNG\r\n\x1a\n")):
		format = "png"
	default:
		return Photo{}, &apperr.Error{Kind: apperr.KindUnsupportedType, Msg: "the photo must be a JPEG or PNG image",
			Fields: []apperr.FieldError{apperr.Field("file", "is not a JPEG or PNG image; take or save the photo as JPEG or PNG")}}
	}
	undecodable := func() error {
		return apperr.Invalid(apperr.Field("file", "cannot be read as a %s image (damaged or cut short); save the photo again", format))
	}
	cfg, err := decodeConfig(format, upload)
	if err != nil {
		return Photo{}, undecodable()
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return Photo{}, apperr.Invalid(apperr.Field("file", "is %d×%d pixels; at most %d megapixels", cfg.Width, cfg.Height, MaxPhotoPixels/1_000_000))
	}
	select {
	case photoSlot <- struct{}{}:
		defer func() { <-photoSlot }()
	case <-ctx.Done():
		return Photo{}, ctx.Err()
	}
	src, err := decode(format, upload)
	if err != nil {
		return Photo{}, undecodable()
	}
	orientation := 1
	if format == "jpeg" {
		orientation = exifOrientation(upload)
	}
	full := upright(fit(src, PhotoSide), orientation)
	thumb := fit(full, ThumbSide)
	var ph Photo
	if ph.JPEG, err = encodeJPEG(full); err != nil {
		return Photo{}, err
	}
	if ph.Thumb, err = encodeJPEG(thumb); err != nil {
		return Photo{}, err
	}
	ph.Width, ph.Height = full.Bounds().Dx(), full.Bounds().Dy()
	sum := sha256.New()
	sum.Write(ph.JPEG)
	sum.Write(ph.Thumb)
	ph.ETag = hex.EncodeToString(sum.Sum(nil)[:10])
	return ph, nil
}

func decodeConfig(format string, b []byte) (image.Config, error) {
	if format == "png" {
		return png.DecodeConfig(bytes.NewReader(b))
	}
	return jpeg.DecodeConfig(bytes.NewReader(b))
}

func decode(format string, b []byte) (image.Image, error) {
	if format == "png" {
		return png.Decode(bytes.NewReader(b))
	}
	return jpeg.Decode(bytes.NewReader(b))
}

// fit returns src shrunk (never enlarged) to fit side×side, keeping its proportions, drawn on
// white (JPEG has no transparency). Catmull-Rom: sharp without the ringing of Lanczos.
func fit(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, h*side/b.Dx())
		} else {
			w, h = max(1, w*side/b.Dy()), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src // an opaque image (every JPEG) replaces the pixels: draw's fast paths, ~4× quicker
	if o, ok := src.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	switch {
	case w == b.Dx() && h == b.Dy():
		draw.Draw(dst, dst.Bounds(), src, b.Min, op)
	case b.Dx() > 3*w:
		// Catmull-Rom straight from a 12-megapixel photo takes seconds; halving to about twice
		// the size first (box-like, cheap) and filtering from there looks the same.
		mid := image.NewRGBA(image.Rect(0, 0, 2*w, 2*h))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, b, draw.Src, nil)
		draw.CatmullRom.Scale(dst, dst.Bounds(), mid, mid.Bounds(), op, nil)
	default:
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, op, nil)
	}
	return dst
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: photoQuality})
	return buf.Bytes(), err
}

// withPhotos sets each product's PhotoURL.
func (s *Service) withPhotos(ctx context.Context, list []*Product) error {
	ids := make([]uuid.UUID, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	urls, err := s.photoURLs(ctx, ids)
	for _, p := range list {
		if u, ok := urls[p.ID]; ok {
			p.PhotoURL = &u
		}
	}
	return err
}
