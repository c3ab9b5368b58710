/** Formats an ε the way people write it: 8/255 when it is one, else the decimal. */
export function formatEps(eps: number): string {
  const decimal = String(Number(eps.toPrecision(6)));
  const k = eps * 255;
  // Short decimals (0.2, 0.05) read best as they are; 0.0313725… reads best as 8/255.
  if (decimal.length > 6 && Math.abs(k - Math.round(k)) < 1e-6) return `${Math.round(k)}/255`;
  return decimal;
}

/** 0.1234 → "12.3%": how every table, log line and matcher message writes a proportion. */
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** An ε in its threat model's unit: "10 px" for l0 (pixels), "0.1 area" for a patch, else formatEps. */
export function formatBudget(eps: number, norm?: string): string {
  if (norm === 'l0') return `${formatEps(eps)} px`;
  if (norm === 'patch') return `${formatEps(eps)} area`;
  return formatEps(eps);
}
