package trace_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/trace"
	"github.com/fupinmarket/fupin/internal/web"
)

var (
	tagRe     = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
	verdictRe = regexp.MustCompile(`(?s)id="verdict".*?</(p|div)>\s*<section`)
	// enumWordRe matches the stored English enum words that must never reach a Chinese page.
	enumWordRe = regexp.MustCompile(`(?i)\b(recalled|damaged|lost|other|inactive|holding|decommissioning|commissioning|packing|shipping|receiving|in_transit|retail_sold)\b`)
)

// pageText is what a person reads on a page: the text without tags and styles.
func pageText(body string) string { return tagRe.ReplaceAllString(body, " ") }

// A recalled or voided item's page says which it is in the verdict box at the top, with the
// station's instruction there, and shows no English enum word on the Chinese page.
func TestBadNewsPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "坏消息测试蜂蜜")
	b := fx.batch(t, e.a, p.ID, 10)
	codes, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	const damagedNote = "外包装破损，请勿食用，联系站点换货"
	if _, err := e.a.Trace.Void(ctx, fx.Operator, codes[0], trace.VoidRequest{Reason: trace.VoidDamaged, Note: damagedNote}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Trace.Void(ctx, fx.Operator, codes[1], trace.VoidRequest{Reason: trace.VoidLost}); err != nil {
		t.Fatal(err)
	}
	const recallNote = "停止食用并联系站点退款，电话0743-1234567"
	if _, err := e.a.Trace.RecallBatch(ctx, fx.Operator, b.ID, trace.RecallRequest{Note: recallNote}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code, head, reason, note string
	}{
		{codes[2], "已召回", "原因：批次召回", recallNote},
		{codes[0], "已作废", "原因：破损", damagedNote},
		{codes[1], "已作废", "原因：遗失", ""},
	} {
		rec := get(t, e.a.Router, "/t/"+c.code)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", c.code, rec.Code)
		}
		body := rec.Body.String()
		box := verdictRe.FindString(body)
		if box == "" {
			t.Fatalf("%s: no verdict box", c.code)
		}
		boxText := pageText(box)
		if !strings.Contains(box, `data-verdict="void"`) || !strings.Contains(boxText, c.head) || !strings.Contains(boxText, c.reason) {
			t.Errorf("%s: verdict box %q lacks %q and %q", c.code, boxText, c.head, c.reason)
		}
		if c.note != "" && !strings.Contains(boxText, c.note) {
			t.Errorf("%s: the station's instruction %q is not in the verdict box %q", c.code, c.note, boxText)
		}
		if c.head == "已作废" && strings.Contains(boxText, "召回") {
			t.Errorf("%s: a voided (not recalled) item's box says 召回: %q", c.code, boxText)
		}
		if w := enumWordRe.FindString(pageText(body)); w != "" {
			t.Errorf("%s: the Chinese page shows the English word %q", c.code, w)
		}
		// The timeline shows the note without its reason code.
		if c.note != "" && !strings.Contains(pageText(body[len(box):]), c.note) {
			t.Errorf("%s: the timeline lacks the note", c.code)
		}
	}
}

// Every enum value trace can store has its page text in every language (one table: web.Enum).
func TestEveryEnumShownOnPagesIsTranslated(t *testing.T) {
	for _, lang := range web.Langs {
		for _, r := range trace.VoidReasons {
			if !web.HasEnum(lang, "void_reason", string(r)) {
				t.Errorf("%s: void reason %s has no page text", lang, r)
			}
		}
		for _, s := range trace.EventSteps {
			if !web.HasEnum(lang, "step", s) {
				t.Errorf("%s: business step %s has no page text", lang, s)
			}
		}
	}
	if got := web.Enum("zh", "void_reason", "something_new"); got != "其他" {
		t.Errorf("an unknown value shows %q on a Chinese page, want the neutral word", got)
	}
}
