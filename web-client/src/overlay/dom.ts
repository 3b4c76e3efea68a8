/** The little DOM help the player's views share; the markup itself is in index.html. */

/** The element with this id, or a clear error if index.html lacks it (or it is of another kind). */
export function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html lacks #${id}`);
  return found;
}

/** Writes text only when it changed: the views re-render every 250 ms. */
export function setText(target: HTMLElement, text: string): void {
  if (target.textContent !== text) target.textContent = text;
}
