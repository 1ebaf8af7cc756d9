// Deploys ConsultationRegistry. Parameters (module "ConsultationRegistry"):
//   admin       the first admin (defaults to the deploying account, account 0)
//   adminDelay  delay in seconds of a two-step admin transfer (default 3 days)
// Used by the contract tests (ignition.deploy) and by the service's local start script.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export const DEFAULT_ADMIN_DELAY = 3 * 24 * 60 * 60;

export default buildModule("ConsultationRegistry", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const adminDelay = m.getParameter("adminDelay", DEFAULT_ADMIN_DELAY);
  const registry = m.contract("ConsultationRegistry", [adminDelay, admin]);
  return { registry };
});
