// tdmpc2's Q(..., return_type='min' | 'avg') reads two distinct heads of the value ensemble, drawn
// once per call (torch.randperm(num_q)[:2]) for all of the call's rows. Here the pair comes from two
// uniforms of the caller's counter-based stream, so a draw is reproducible and part of a checkpoint.

/** Two distinct heads j ≠ l of K >= 2, uniform over ordered pairs, from u1, u2 ∈ [0, 1). */
export function randomHeadPair(K: number, u1: number, u2: number): [number, number] {
  const j = Math.min(K - 1, Math.floor(u1 * K));
  let l = Math.min(K - 2, Math.floor(u2 * (K - 1)));
  if (l >= j) l++;
  return [j, l];
}
