/** The ConsultationRegistry ABI, generated from the compiled contract by the contracts area (kept in sync by a test). */
export { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
