/**
 * One draw per animation frame however many changes ask for it: the returned function requests a frame
 * unless one is already requested, and `draw` runs in it (with the frame's timestamp).
 */
export function frameCoalescer(draw: (now: number) => void): () => void {
  let requested = false;
  return () => {
    if (requested) return;
    requested = true;
    requestAnimationFrame((now) => {
      requested = false;
      draw(now);
    });
  };
}
