/** Domain types of the shop. Actors use them; repid-gen copies them into the registry. */

export enum Currency {
  EUR = "EUR",
  USD = "USD",
}

export interface Money {
  /** In cents. */
  amount: number;
  currency: Currency;
}

export interface LineItem {
  sku: string;
  quantity: number;
  unitPrice: Money;
  /** Free-form options such as size or colour. */
  options?: Record<string, string>;
}

export interface Address {
  name: string;
  street: string;
  city: string;
  country: string;
}

/** An order as the shop front submits it. */
export interface Order {
  id: string;
  customer: { email: string; vip?: boolean };
  items: LineItem[];
  shipTo: Address;
  /** Producers send a Date or an ISO string; the actor always gets a Date. */
  placedAt: Date;
  notes?: string | null;
}

export type OrderStatus = "accepted" | "backordered";

export interface OrderSummary {
  orderId: string;
  status: OrderStatus;
  total: Money;
  itemCount: number;
  /** ISO date. */
  shipBy: string;
}
