"use strict";

// Connect-style middleware (Express, Connect, Fastify through @fastify/express or
// @fastify/middie): sets req.session, or answers 401, or 503 when Redis could not be asked.

const { refusalResponse, resolveAdapterOptions, claimProperty } = require("./http");

// optional: a request without a live session (no cookie, a bad one, a revoked one, a bad
// origin) goes on with req[property] unset instead of being answered 401. Redis failing is
// still answered 503: "anonymous" means "no live session", never "could not tell".
function expressMiddleware({ settings, admit }, options) {
  const { optional, property } = resolveAdapterOptions("express", options, { optional: false });

  return (req, res, next) => {
    try {
      claimProperty(req, property);
    } catch (error) {
      next(error);
      return;
    }
    admit(req.headers).then((result) => {
      if (result.session) {
        req[property] = result.session;
        next();
      } else if (optional && result.refused === "unauthorized") {
        next();
      } else {
        refuse(res, result.refused);
      }
    }, (error) => {
      settings.onError(error);
      refuse(res, "unavailable");
    });
  };
}

function refuse(res, refused) {
  const { status, headers, body } = refusalResponse(refused);
  res.writeHead(status, headers);
  res.end(body);
}

module.exports = { expressMiddleware };
