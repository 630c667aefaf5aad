// A row or card opened from a link (?unit=…, ?open=…, back/forward) is scrolled into view once the
// page has drawn it: on a phone it was often below the fold, and nothing said which one the link meant.

/**
 * reveal scrolls the element that find returns into view, centred, after the next frame (the page
 * draws it first) unless its top is already on the screen: a row clicked is left where it is.
 * Nothing happens when find returns nothing (the row is not among those loaded).
 */
export function reveal(find: () => Element | null | undefined, block: ScrollLogicalPosition = 'center') {
  requestAnimationFrame(() =>
    setTimeout(() => {
      const el = find()
      if (!el) return
      const top = el.getBoundingClientRect().top
      if (top >= 0 && top < window.innerHeight * 0.75) return
      el.scrollIntoView({ block })
    }),
  )
}
