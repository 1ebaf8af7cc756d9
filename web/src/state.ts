// Which page render is current: async work started by an older render must not paint over a newer page.
let generation = 0;

export function nextGeneration(): number {
  generation += 1;
  return generation;
}

export function isCurrent(gen: number): boolean {
  return gen === generation;
}
