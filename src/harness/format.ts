/** Formats an ε the way people write it: 8/255 when it is one, else the decimal. */
export function formatEps(eps: number): string {
  const decimal = String(Number(eps.toPrecision(6)));
  const k = eps * 255;
  // Short decimals (0.2, 0.05) read best as they are; 0.0313725… reads best as 8/255.
  if (decimal.length > 6 && Math.abs(k - Math.round(k)) < 1e-6) return `${Math.round(k)}/255`;
  return decimal;
}
