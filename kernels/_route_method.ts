/**
 * Rerouting of a method of a tfjs class (AdamOptimizer.applyGradients, the BatchNormalization and
 * Conv2D layers' call) to a pack's faster path, inside the class, so every caller, model, checkpoint
 * and weight name stays unchanged. Routes chain: each wraps the method it found, and a call that no
 * route claims runs the class's own code.
 * @module
 */

const installed = new WeakMap<object, Set<string>>();

/**
 * Wraps `proto[method]` once per `key`. `route` gets the instance, the call's arguments and `next`,
 * which runs the method as it was before this route (another route, or the class's own); it
 * returns the call's result, from its own path or from `next()`.
 */
export function routeMethod<A extends unknown[], R>(
  proto: object,
  method: string,
  key: string,
  route: (self: unknown, args: A, next: () => R) => R,
): void {
  const keys = installed.get(proto) ?? new Set<string>();
  installed.set(proto, keys);
  if (keys.has(`${method}/${key}`)) return;
  keys.add(`${method}/${key}`);
  const target = proto as Record<string, (this: unknown, ...args: A) => R>;
  const previous = target[method];
  target[method] = function (this: unknown, ...args: A): R {
    return route(this, args, () => previous.apply(this, args));
  };
}
