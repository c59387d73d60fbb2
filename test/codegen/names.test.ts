import { describe, expect, it } from "vitest";
import { NameAllocator, camelCase } from "../../codegen/scan/names.js";

describe("names", () => {
  it("maps actor names to camelCase client properties", () => {
    expect(camelCase("send_email")).toBe("sendEmail");
    expect(camelCase("send-email")).toBe("sendEmail");
    expect(camelCase("SendEmail")).toBe("sendEmail");
    expect(camelCase("sendEmail")).toBe("sendEmail");
    expect(camelCase("HTTPFetch")).toBe("httpFetch");
    expect(camelCase("process_order_12")).toBe("processOrder12");
    expect(camelCase("42")).toBeUndefined();
    expect(camelCase("--")).toBeUndefined();
  });

  it("hands out unique type names, keeping their schema names free", () => {
    const names = new NameAllocator();
    expect(names.allocate("User")).toBe("User");
    expect(names.allocate("User")).toBe("User2");
    expect(names.allocate("UserSchema")).toBe("UserSchema2");
    expect(names.allocate("registry")).toBe("registry2");
  });
});
