// Installed once per page, on document level, because the chat re-renders its messages.
if (!window.__sourcesNav) {
  window.__sourcesNav = true;
  const cardFor = (a) => document.getElementById(decodeURIComponent(a.hash.slice(1)));
  const reveal = (card, page) => {
    const turn = card.closest('details'); if (turn) turn.open = true;
    document.querySelectorAll('.source.active').forEach((e) => e.classList.remove('active'));
    card.classList.add('active');
    const box = card.closest('.sources');
    if (page) { card.scrollIntoView({block: 'nearest'}); return; }
    const r = card.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - 8;
  };
  const citeOf = (e) => e.target instanceof Element ? e.target.closest('a.cite') : null;
  document.addEventListener('click', (e) => {
    const a = citeOf(e), card = a && cardFor(a);
    if (card) { e.preventDefault(); reveal(card, true); }
  });
  for (const type of ['mouseover', 'focusin']) {
    document.addEventListener(type, (e) => {
      const a = citeOf(e), card = a && cardFor(a);
      if (card) reveal(card, false);
    });
  }
  const follow = (t) => { if (t instanceof HTMLTextAreaElement && t.closest('#question')) t.dir = 'auto'; };
  document.addEventListener('focusin', (e) => follow(e.target));
  document.querySelectorAll('#question textarea').forEach(follow);
}
