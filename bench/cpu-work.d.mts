export function work(rounds: number): number;
export default function processor(job: { data: { rounds: number } }): number;
