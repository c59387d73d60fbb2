import { Router } from "repid";

/** The router every actor of the example registers on. */
export const router = new Router();
