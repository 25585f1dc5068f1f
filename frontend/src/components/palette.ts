// A categorical palette readable on both themes (Okabe–Ito based, colour-blind safe).
export const PALETTE = [
  "#2d6fd6",
  "#e69f00",
  "#009e73",
  "#cc4c8c",
  "#56b4e9",
  "#d55e00",
  "#7a5cc7",
  "#8a8f2a",
  "#999999",
];

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length] as string;
}
