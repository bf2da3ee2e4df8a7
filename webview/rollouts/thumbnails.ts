/**
 * The thumbnails' <img> elements, kept by URI across re-renders of the list. While "Follow live" is on, rows
 * are rebuilt as steps stream in; a fresh <img> each time would cancel its image's request before it
 * finished, and the thumbnails would stay blank. A rebuilt row gets the element that is already loading
 * (or loaded) instead: a detached <img> keeps loading, so no request is thrown away.
 */
import { element } from './dom.js';

/** Thumbnails kept (a few steps of a large batch); the least recently used go first. */
export const THUMBNAIL_CACHE_SIZE = 512;

export class ThumbnailCache {
  /** By URI, least recently used first. */
  private readonly images = new Map<string, HTMLImageElement>();

  constructor(private readonly capacity = THUMBNAIL_CACHE_SIZE) {}

  /** The thumbnail of `src`: the kept element when it is not shown elsewhere, else a new one (kept). */
  get(src: string, alt: string): HTMLImageElement {
    let image = this.images.get(src);
    if (image?.isConnected) return this.create(src, alt);
    if (image) this.images.delete(src);
    else image = this.create(src, alt);
    image.alt = alt;
    this.images.set(src, image);
    if (this.images.size > this.capacity) {
      for (const [key, kept] of this.images) {
        if (this.images.size <= this.capacity) break;
        if (!kept.isConnected) this.images.delete(key);
      }
    }
    return image;
  }

  /** How many elements are kept. */
  get size(): number {
    return this.images.size;
  }

  private create(src: string, alt: string): HTMLImageElement {
    const image = element('img', 'thumb');
    // Not lazy: a detached or just-inserted row must not postpone the request.
    image.decoding = 'async';
    image.alt = alt;
    image.src = src;
    return image;
  }
}
