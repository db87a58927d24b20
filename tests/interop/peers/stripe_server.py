#!/usr/bin/env python3
"""A local Stripe test server for the interop tests: localstripe plus Checkout Sessions.

usage: stripe_server.py --port N [--account-name NAME] [--country CC] [--currency CUR]
                        [--api-version VERSION] [--verbose]
  Listens on 127.0.0.1:N (0: any free port) and prints one line to stdout when ready:
  "listening on http://127.0.0.1:N".  Log lines (webhook deliveries; requests with
  --verbose) go to stderr.

localstripe 1.15.10 (Adrien Vergé, PyPI; .venv-stripe) does the payments: PaymentMethods,
PaymentIntents, charges, refunds, balance transactions, events, and signed webhooks
(POST /_config/webhooks/{id} with url, secret and optionally events; each event is POSTed
about a second after it happens with "Stripe-Signature: t=<created>,v1=<hex HMAC-SHA256 of
'<t>.<body>' keyed with the secret>").  This module adds, on localstripe's own aiohttp app and
with its own objects:

  GET  /v1/account                          the account the secret key belongs to
  POST /v1/checkout/sessions                mode=payment with price_data line items
  GET  /v1/checkout/sessions                list; filters payment_intent, status
  GET  /v1/checkout/sessions/{id}
  POST /v1/checkout/sessions/{id}           metadata only
  GET  /v1/checkout/sessions/{id}/line_items
  POST /v1/checkout/sessions/{id}/expire    -> checkout.session.expired
  GET  /checkout/pay/{id}                   the hosted payment page (session.url), no API key
  POST /checkout/pay/{id}                   form field card: pays with a localstripe
                                            PaymentIntent, -> checkout.session.completed
  POST /v1/refunds (localstripe's, wrapped) -> refund.created and charge.refunded; without
                                            amount refunds what is left (localstripe: the whole
                                            charge again); refuses refunding more than is left
                                            (amount_too_large, charge_already_refunded); reason

and, for every POST under /v1/, Stripe's Idempotency-Key handling (a repeat with the same key
and parameters answers the first response again; other parameters: 400 idempotency_error).
Every sk_test_… key is accepted and is its own account for GET /v1/account, but objects are not
partitioned by key: any key reads every session, payment and refund.

Changes to localstripe's behaviour (monkeypatches, all here):
  - nothing is written to /tmp/localstripe.pickle (state lives in this process only, so
    several servers can run at once);
  - API keys: a secret key must look like sk_test_… (or rk_test_…); a missing or other key is a
    401 with Stripe's messages (localstripe takes any sk_… and answers "Unauthorized");
  - 404s name the object ("No such payment_intent: 'pi_…'", code resource_missing), unknown
    URLs answer Stripe's "Unrecognized request URL" 404 and crashes a 500 api_error, in JSON;
  - Stripe's decline test cards (4000000000000002 and the other card_declined numbers, which
    localstripe only declines when attaching to a customer) decline charges too;
  - a PaymentIntent's latest_charge is the charge's id unless expanded (localstripe gives the
    whole charge);
  - events carry api_version (--api-version, by default the version the pinned stripe npm
    SDK sends), pending_webhooks and request; a webhook registered for events ["*"] gets all.
"""
import argparse
import asyncio
import base64
import copy
import hashlib
import html
import logging
import re
import signal
import sys
import time
import traceback
import urllib.parse

from aiohttp import web

from localstripe import resources as ls
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError
from localstripe.resources import (Charge, Event, List, PaymentIntent, PaymentMethod, Refund,
                                   StripeObject, random_id, schedule_webhook,
                                   try_convert_to_int)

app = ls_server.app
json_response = ls_server.json_response

# Settings (set from the command line in main()).
ACCOUNT = {'name': 'Localstripe test account', 'country': 'FR', 'currency': 'eur'}
API_VERSION = '2026-11-18.endive'  # what stripe@23.2.0 (tests/interop/peers) sends
STARTED = int(time.time())
BASE_URL = 'http://127.0.0.1'  # completed once the port is bound
PAY_PATH = '/checkout/pay/'

SECRET_KEY = re.compile(r'^(sk|rk)_test_[A-Za-z0-9_]+$')
ZERO_DECIMAL = {'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx',
                'vnd', 'vuv', 'xaf', 'xof', 'xpf'}
# Stripe's test cards declined with card_declined; localstripe declines them only on attach.
DECLINED_CARDS = {'4000000000000002', '4000000000009995', '4000000000009987',
                  '4000000000009979', '4000000000000069', '4000000000000127',
                  '4000000000000119', '4000000000000341', '4000008260003178',
                  '4000008400001629', '4242424242424241'}


class StripeError(UserError):
    """A Stripe error answer: {"error": {"type", "message", "code"?, "param"?, "doc_url"?}}."""

    def __init__(self, status, message, type='invalid_request_error', code=None, param=None):
        super().__init__(status, message)
        error = {'type': type, 'message': message}
        if code:
            error['code'] = code
            error['doc_url'] = 'https://stripe.com/docs/error-codes/' + code.replace('_', '-')
        if param:
            error['param'] = param
        self.body = {'error': error}


def missing(param):
    return StripeError(400, f'Missing required param: {param}.', code='parameter_missing',
                       param=param)


def unknown(param):
    return StripeError(400, f'Received unknown parameter: {param}', code='parameter_unknown',
                       param=param)


def invalid(param, message, code=None):
    return StripeError(400, message, code=code, param=param)


# ---- patches to localstripe -------------------------------------------------------------------

# State stays in this process: localstripe pickles its whole store to /tmp/localstripe.pickle
# after every change, which parallel servers would share.
ls.Store.dump_to_disk = lambda self: None


def _api_retrieve(cls, id):
    obj = ls.store.get(cls.object + ':' + id) if isinstance(id, str) else None
    if obj is None:
        raise StripeError(404, f"No such {cls.object}: '{id}'", code='resource_missing',
                          param='id')
    return obj


StripeObject._api_retrieve = classmethod(_api_retrieve)

_ls_charging_is_declined = PaymentMethod._charging_is_declined


def _charging_is_declined(self):
    if self.type == 'card' and self._card_number in DECLINED_CARDS:
        return True
    return _ls_charging_is_declined(self)


PaymentMethod._charging_is_declined = _charging_is_declined

_ls_event_init = Event.__init__


def _event_init(self, type, data):
    _ls_event_init(self, type, data)
    self.api_version = API_VERSION
    self.pending_webhooks = sum(1 for w in ls_webhooks._webhooks.values()
                                if w.events is None or type in w.events)
    self.request = {'id': None, 'idempotency_key': None}


Event.__init__ = _event_init

_ls_payment_intent_export = PaymentIntent._export


def _payment_intent_export(self, expand=None):
    """latest_charge is the charge's id, as at Stripe, unless expanded (localstripe: always the
    whole charge)."""
    paths = expand if type(expand) is list else []
    expanded = any(p == 'latest_charge' or p.startswith('latest_charge.') for p in paths)
    obj = _ls_payment_intent_export(self, expand=[p for p in paths if not (
        p == 'latest_charge' or p.startswith('latest_charge.'))] if paths else expand)
    if not expanded and isinstance(obj.get('latest_charge'), dict):
        obj['latest_charge'] = obj['latest_charge']['id']
    return obj


PaymentIntent._export = _payment_intent_export

_ls_register_webhook = ls_server.register_webhook


def _register_webhook(id, url, secret, events):
    _ls_register_webhook(id, url, secret, None if events and '*' in events else events)


ls_server.register_webhook = _register_webhook


def _amount(amount, currency):
    """49.50 EUR"""
    if currency in ZERO_DECIMAL:
        return f'{amount} {currency.upper()}'
    return f'{amount // 100}.{amount % 100:02d} {currency.upper()}'


_ls_refund_create = Refund._api_create  # bound to Refund: Refund(**data) and its transaction


def _refund_create(cls, **data):
    """localstripe's refund, checked first like Stripe and announced with events."""
    reason = data.pop('reason', None)
    if reason is not None and reason not in ('duplicate', 'fraudulent', 'requested_by_customer'):
        raise invalid('reason', 'Invalid reason: must be one of duplicate, fraudulent, or '
                      'requested_by_customer')
    pi_id, charge_id = data.get('payment_intent'), data.get('charge')
    if pi_id is None and charge_id is None:
        raise StripeError(400, 'One of the following params should be provided for this '
                          'request: payment_intent or charge.')
    if pi_id is not None and charge_id is not None:
        raise invalid('charge', 'You cannot pass both charge and payment_intent.')
    if pi_id is not None:
        pi = ls.store.get('payment_intent:' + str(pi_id))
        if pi is None:
            raise invalid('payment_intent', f"No such payment_intent: '{pi_id}'",
                          code='resource_missing')
        charge = pi.latest_charge
        if charge is None or charge.status != 'succeeded':
            raise invalid('payment_intent', f'This PaymentIntent ({pi_id}) does not have a '
                          'successful charge to refund.')
    else:
        charge = ls.store.get('charge:' + str(charge_id))
        if charge is None:
            raise invalid('charge', f"No such charge: '{charge_id}'", code='resource_missing')
    left = charge.amount - charge.amount_refunded
    if left <= 0:
        raise StripeError(400, f'Charge {charge.id} has already been refunded.',
                          code='charge_already_refunded')
    amount = try_convert_to_int(data.get('amount'))
    if amount is None:
        data['amount'] = left  # localstripe would refund the whole charge again
    else:
        if type(amount) is not int:
            raise invalid('amount', f"Invalid integer: {data['amount']}",
                          code='parameter_invalid_integer')
        if amount < 1:
            raise invalid('amount', 'This value must be greater than or equal to 1.')
        if amount > left:
            raise invalid('amount', f'Refund amount ({_amount(amount, charge.currency)}) is '
                          'greater than unrefunded amount on charge '
                          f'({_amount(left, charge.currency)})', code='amount_too_large')
    refund = _ls_refund_create(**data)
    if refund.payment_intent is None:
        refund.payment_intent = charge.payment_intent
    refund.reason = reason
    schedule_webhook(Event('refund.created', refund))
    schedule_webhook(Event('charge.refunded', charge))
    return refund


Refund._api_create = classmethod(_refund_create)


# ---- middlewares: Stripe's error shapes, API keys, idempotency --------------------------------

def api_key_of(request):
    """The key in Authorization (Bearer, or Basic as the user name); '' if unreadable."""
    header = request.headers.get('Authorization')
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(' ')
    if scheme.lower() == 'bearer':
        return credentials.strip()
    if scheme.lower() == 'basic':
        try:
            return base64.b64decode(credentials.strip()).decode('utf-8').split(':')[0]
        except ValueError:
            return ''
    return ''


def _masked(key):
    return key[:8] + '*' * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else '*' * len(key)


NO_KEY = ("You did not provide an API key. You need to provide your API key in the "
          "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
          "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or "
          "we can help at https://support.stripe.com/.")


@web.middleware
async def shapes_middleware(request, handler):
    """Unknown URLs and crashes under /v1/ answer Stripe-shaped JSON; Request-Id on answers."""
    request_id = 'req_' + random_id(14)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if not request.path.startswith('/v1/') or e.status not in (404, 405):
            raise
        response = StripeError(404, f'Unrecognized request URL ({request.method}: '
                               f'{request.path}). Please see https://stripe.com/docs or we '
                               'can help at https://support.stripe.com/.').to_response()
    except Exception:
        traceback.print_exc(file=sys.stderr)
        response = json_response({'error': {
            'type': 'api_error',
            'message': 'An unknown error occurred in the Stripe test server (see its log).'}},
            status=500, headers={'Stripe-Should-Retry': 'false'})
    if request.path.startswith('/v1/'):
        response.headers.setdefault('Request-Id', request_id)
    return response


@web.middleware
async def auth_middleware(request, handler):
    """localstripe's auth, with test-mode secret keys only and Stripe's 401 messages."""
    if request.path.startswith(PAY_PATH):
        return await handler(request)  # the payer's browser: no API key, like checkout.stripe.com
    key = api_key_of(request)
    exempt = request.path.startswith(('/_config/', '/js.stripe.com/'))
    if key is not None and not exempt and not key.startswith('pk_') and \
            not SECRET_KEY.match(key):
        raise StripeError(401, f'Invalid API Key provided: {_masked(key)}')
    reached = False

    async def inner(request):
        nonlocal reached
        reached = True
        return await handler(request)

    try:
        return await ls_server.auth_middleware(request, inner)
    except UserError as e:
        if e.code == 401 and not reached:
            raise StripeError(401, NO_KEY if not key else 'This API call cannot be made with a '
                              'publishable API key. Please use a secret API key.')
        raise


IDEMPOTENT = {}  # (api key, Idempotency-Key) -> None while running, then the saved answer


def _fingerprint(request, raw):
    if request.content_type == 'application/x-www-form-urlencoded':
        params = sorted(urllib.parse.parse_qsl(raw.decode('utf-8', 'replace'),
                                               keep_blank_values=True))
        raw = repr(params).encode('utf-8')
    return hashlib.sha256(request.method.encode() + b' ' + request.path.encode() + b'\n' +
                          raw).hexdigest()


@web.middleware
async def idempotency_middleware(request, handler):
    """Stripe's idempotent requests: a POST repeated with the same Idempotency-Key (and the same
    parameters) answers the first response again, without running it again.  As at Stripe,
    answers are saved once the request ran (2xx, and 402 card declines), not when it failed
    validation."""
    key = request.headers.get('Idempotency-Key')
    if request.method != 'POST' or key is None or not request.path.startswith('/v1/'):
        return await handler(request)
    if not key or len(key) > 255:
        raise StripeError(400, 'Idempotency-Key must be between 1 and 255 characters long.',
                          type='idempotency_error')
    scope = (api_key_of(request), key)
    fingerprint = _fingerprint(request, await request.read())
    if scope in IDEMPOTENT:
        saved = IDEMPOTENT[scope]
        if saved is None:
            raise StripeError(409, 'There is currently another in-progress request using this '
                              f'Stripe Idempotency Key: {key}. Please try again later.',
                              type='idempotency_error', code='idempotency_key_in_use')
        if saved['fingerprint'] != fingerprint:
            raise StripeError(400, 'Keys for idempotent requests can only be used with the same '
                              'parameters they were first used with. Try using a key other '
                              f"than '{key}' if you meant to execute a different request.",
                              type='idempotency_error')
        return web.Response(body=saved['body'], status=saved['status'],
                            content_type=saved['content_type'], charset=saved['charset'],
                            headers={'Idempotency-Key': key, 'Idempotent-Replayed': 'true',
                                     'Original-Request': saved['request_id']})
    IDEMPOTENT[scope] = None
    response = None
    try:
        try:
            response = await handler(request)
        except UserError as e:
            response = e.to_response()
    finally:
        if response is not None and isinstance(response, web.Response) and \
                (response.status < 400 or response.status == 402):
            request_id = 'req_' + random_id(14)
            response.headers['Request-Id'] = request_id
            IDEMPOTENT[scope] = {'fingerprint': fingerprint, 'status': response.status,
                                 'body': response.body, 'content_type': response.content_type,
                                 'charset': response.charset, 'request_id': request_id}
        else:
            del IDEMPOTENT[scope]
    response.headers['Idempotency-Key'] = key
    return response


_middlewares = app.middlewares  # not frozen until the app starts
_middlewares[_middlewares.index(ls_server.auth_middleware)] = auth_middleware
_middlewares.insert(_middlewares.index(auth_middleware) + 1, idempotency_middleware)
_middlewares.insert(0, shapes_middleware)


# ---- the account ------------------------------------------------------------------------------

def account_for(key):
    """One account per secret key (its id derived from the key), as every key is at Stripe."""
    name = ACCOUNT['name']
    return {
        'id': 'acct_' + hashlib.sha256(key.encode('utf-8')).hexdigest()[:16],
        'object': 'account',
        'business_profile': {'mcc': None, 'name': name, 'product_description': None,
                             'support_address': None, 'support_email': None,
                             'support_phone': None, 'support_url': None, 'url': None},
        'business_type': None,
        'capabilities': {'card_payments': 'active', 'transfers': 'active'},
        'charges_enabled': True,
        'country': ACCOUNT['country'],
        'created': STARTED,
        'default_currency': ACCOUNT['currency'],
        'details_submitted': True,
        'email': None,
        'metadata': {},
        'payouts_enabled': True,
        'settings': {'dashboard': {'display_name': name, 'timezone': 'Etc/UTC'},
                     'payments': {'statement_descriptor': None}},
        'type': 'standard',
    }


async def retrieve_account(request):
    return json_response(account_for(api_key_of(request) or ''))


# ---- Checkout Sessions ------------------------------------------------------------------------

def _metadata(value, param):
    """Stripe's metadata rules: up to 50 string keys (40 chars) with string values (500)."""
    if value is None or value == '':
        return {}
    if type(value) is not dict:
        raise invalid(param, 'Invalid hash')
    if len(value) > 50:
        raise invalid(param, 'Invalid metadata: cannot have more than 50 keys')
    for k, v in value.items():
        if type(v) is not str:
            raise invalid(f'{param}[{k}]', 'Invalid metadata: values must be strings')
        if len(k) > 40:
            raise invalid(param, f'Invalid metadata: keys can be at most 40 characters ({k})')
        if len(v) > 500:
            raise invalid(f'{param}[{k}]', 'Invalid metadata: values can be at most 500 '
                          'characters')
    return dict(value)


def _only(value, allowed, param):
    for k in value:
        if k not in allowed:
            raise unknown(f'{param}[{k}]')


def _int(value, param, minimum=None):
    n = try_convert_to_int(value)
    if type(n) is not int:
        raise invalid(param, f'Invalid integer: {value}', code='parameter_invalid_integer')
    if minimum is not None and n < minimum:
        raise invalid(param, f'This value must be greater than or equal to {minimum}.')
    return n


def _url(value, param):
    if type(value) is not str or not re.match(r'^https?://[^\s/]+', value):
        raise invalid(param, 'Not a valid URL', code='url_invalid')
    return value


class CheckoutSession(StripeObject):
    object = 'checkout.session'
    _id_prefix = 'cs_test_'

    def __init__(self, mode=None, line_items=None, success_url=None, cancel_url=None,
                 client_reference_id=None, customer_email=None, metadata=None,
                 payment_intent_data=None, expires_at=None, locale=None, submit_type=None,
                 payment_method_types=None, ui_mode=None, **kwargs):
        for k in kwargs:
            raise unknown(k)
        now = int(time.time())
        if mode is None:
            raise missing('mode')
        if mode not in ('payment', 'setup', 'subscription'):
            raise invalid('mode', 'Invalid mode: must be one of payment, setup, or '
                          'subscription')
        if mode != 'payment':
            raise invalid('mode', f'mode={mode} is not supported by this Stripe test server '
                          '(only payment).')
        if ui_mode not in (None, 'hosted'):
            raise invalid('ui_mode', f'ui_mode={ui_mode} is not supported by this Stripe test '
                          'server (only hosted).')
        if not line_items:
            raise missing('line_items')
        if type(line_items) is not list:
            raise invalid('line_items', 'Invalid array')
        items, currency = [], None
        for i, item in enumerate(line_items):
            p = f'line_items[{i}]'
            if type(item) is not dict:
                raise invalid(p, 'Invalid object')
            _only(item, ('quantity', 'price_data'), p)
            if 'price_data' not in item:
                raise missing(f'{p}[price_data]')  # price / product ids: not implemented here
            if 'quantity' not in item:
                raise missing(f'{p}[quantity]')
            quantity = _int(item['quantity'], f'{p}[quantity]', 1)
            price = item['price_data']
            pp = f'{p}[price_data]'
            if type(price) is not dict:
                raise invalid(pp, 'Invalid object')
            _only(price, ('currency', 'unit_amount', 'product_data', 'tax_behavior'), pp)
            if 'currency' not in price:
                raise missing(f'{pp}[currency]')
            item_currency = str(price['currency']).lower()
            if not re.match(r'^[a-z]{3}$', item_currency):
                raise invalid(f'{pp}[currency]', f"Invalid currency: {price['currency']}")
            if currency is not None and item_currency != currency:
                raise invalid(f'{pp}[currency]', 'All line items must have the same currency.')
            currency = item_currency
            if 'unit_amount' not in price:
                raise missing(f'{pp}[unit_amount]')
            unit_amount = _int(price['unit_amount'], f'{pp}[unit_amount]', 0)
            product = price.get('product_data')
            if type(product) is not dict:
                raise missing(f'{pp}[product_data]') if product is None else \
                    invalid(f'{pp}[product_data]', 'Invalid object')
            _only(product, ('name', 'description', 'metadata'), f'{pp}[product_data]')
            if not product.get('name'):
                raise missing(f'{pp}[product_data][name]')
            if price.get('tax_behavior') not in (None, 'exclusive', 'inclusive', 'unspecified'):
                raise invalid(f'{pp}[tax_behavior]', 'Invalid tax_behavior: must be one of '
                              'exclusive, inclusive, or unspecified')
            items.append({'quantity': quantity, 'unit_amount': unit_amount,
                          'currency': item_currency, 'name': str(product['name']),
                          'description': product.get('description'),
                          'product_metadata': _metadata(product.get('metadata'),
                                                        f'{pp}[product_data][metadata]'),
                          'tax_behavior': price.get('tax_behavior', 'unspecified')})
        total = sum(i['quantity'] * i['unit_amount'] for i in items)
        if total <= 0:
            raise invalid('line_items', 'The Checkout Session\'s total amount due must be '
                          'greater than 0 in payment mode.')
        if success_url is None:
            raise missing('success_url')
        _url(success_url, 'success_url')
        if cancel_url is not None:
            _url(cancel_url, 'cancel_url')
        if client_reference_id is not None and (type(client_reference_id) is not str or
                                                not 0 < len(client_reference_id) <= 200):
            raise invalid('client_reference_id', 'client_reference_id must be a string of at '
                          'most 200 characters.')
        if customer_email is not None and (type(customer_email) is not str or
                                           not re.match(r'^[^@\s]+@[^@\s]+$', customer_email)):
            raise invalid('customer_email', f'Invalid email address: {customer_email}',
                          code='email_invalid')
        metadata = _metadata(metadata, 'metadata')
        pid = payment_intent_data if payment_intent_data not in (None, '') else {}
        if type(pid) is not dict:
            raise invalid('payment_intent_data', 'Invalid object')
        _only(pid, ('metadata', 'description'), 'payment_intent_data')
        pid_metadata = _metadata(pid.get('metadata'), 'payment_intent_data[metadata]')
        if expires_at is None:
            expires_at = now + 24 * 3600
        else:
            expires_at = _int(expires_at, 'expires_at')
            if expires_at < now + 30 * 60:
                raise invalid('expires_at', 'The `expires_at` timestamp must be at least 30 '
                              'minutes from Checkout Session creation.')
            if expires_at > now + 24 * 3600:
                raise invalid('expires_at', 'The `expires_at` timestamp must be less than 24 '
                              'hours from Checkout Session creation.')
        if payment_method_types is not None and payment_method_types != ['card']:
            raise invalid('payment_method_types', 'This Stripe test server supports '
                          'payment_method_types=[card] only.')
        if submit_type not in (None, 'auto', 'book', 'donate', 'pay', 'subscribe'):
            raise invalid('submit_type', 'Invalid submit_type: must be one of auto, book, '
                          'donate, pay, or subscribe')

        # All exceptions must be raised before this point (as in localstripe).
        super().__init__(id=self._id_prefix + 'a1' + random_id(56))
        self._items = [{
            'id': 'li_' + random_id(24), 'object': 'item', 'amount_discount': 0,
            'amount_subtotal': i['quantity'] * i['unit_amount'], 'amount_tax': 0,
            'amount_total': i['quantity'] * i['unit_amount'], 'currency': i['currency'],
            'description': i['name'],
            'price': {'id': 'price_' + random_id(24), 'object': 'price', 'active': False,
                      'billing_scheme': 'per_unit', 'created': self.created,
                      'currency': i['currency'], 'livemode': False, 'lookup_key': None,
                      'metadata': {}, 'nickname': None, 'product': 'prod_' + random_id(14),
                      'recurring': None, 'tax_behavior': i['tax_behavior'],
                      'type': 'one_time', 'unit_amount': i['unit_amount'],
                      'unit_amount_decimal': str(i['unit_amount'])},
            'quantity': i['quantity']} for i in items]
        self._payment_intent_data = {'metadata': pid_metadata,
                                     'description': pid.get('description')}

        self.after_expiration = None
        self.allow_promotion_codes = None
        self.amount_subtotal = total
        self.amount_total = total
        self.automatic_tax = {'enabled': False, 'liability': None, 'status': None}
        self.billing_address_collection = None
        self.cancel_url = cancel_url
        self.client_reference_id = client_reference_id
        self.client_secret = None
        self.consent = None
        self.consent_collection = None
        self.currency = currency
        self.custom_fields = []
        self.custom_text = {'after_submit': None, 'shipping_address': None, 'submit': None,
                            'terms_of_service_acceptance': None}
        self.customer = None
        self.customer_creation = 'if_required'
        self.customer_details = None if customer_email is None else \
            self._details(customer_email)
        self.customer_email = customer_email
        self.expires_at = expires_at
        self.invoice = None
        self.locale = locale
        self.metadata = metadata
        self.mode = mode
        self.payment_intent = None
        self.payment_link = None
        self.payment_method_collection = 'if_required'
        self.payment_method_options = {}
        self.payment_method_types = ['card']
        self.payment_status = 'unpaid'
        self.phone_number_collection = {'enabled': False}
        self.recovered_from = None
        self.setup_intent = None
        self.shipping_address_collection = None
        self.shipping_cost = None
        self.shipping_options = []
        self.status = 'open'
        self.submit_type = submit_type
        self.subscription = None
        self.success_url = success_url
        self.total_details = {'amount_discount': 0, 'amount_shipping': 0, 'amount_tax': 0}
        self.ui_mode = 'hosted'
        self.url = BASE_URL + PAY_PATH + self.id

    @staticmethod
    def _details(email):
        return {'address': None, 'email': email, 'name': None, 'phone': None,
                'tax_exempt': 'none', 'tax_ids': []}

    def _line_items(self):
        return {'object': 'list', 'data': copy.deepcopy(self._items), 'has_more': False,
                'url': f'/v1/checkout/sessions/{self.id}/line_items'}

    def _export(self, expand=None):
        with_items = type(expand) is list and 'line_items' in expand
        if with_items:
            expand = [e for e in expand if e != 'line_items']
        obj = copy.deepcopy(super()._export(expand=expand))
        if with_items:
            obj['line_items'] = self._line_items()
        return obj

    def _expire_if_due(self):
        if self.status == 'open' and time.time() >= self.expires_at:
            self._expire()

    def _expire(self):
        self.status = 'expired'
        self.url = None
        schedule_webhook(Event('checkout.session.expired', self))

    def _complete(self, payment_intent, email):
        self.status = 'complete'
        self.payment_status = 'paid'
        self.payment_intent = payment_intent.id
        self.customer_details = self._details(email)
        self.url = None
        schedule_webhook(Event('checkout.session.completed', self))

    @classmethod
    def _api_retrieve(cls, id):
        obj = super()._api_retrieve(id)
        obj._expire_if_due()
        return obj

    @classmethod
    def _api_update(cls, id, **data):
        # Stripe lets only metadata (and a few collection options) change.
        for k in data:
            if k != 'metadata':
                raise unknown(k)
        obj = cls._api_retrieve(id)
        obj.metadata = {**obj.metadata, **_metadata(data.get('metadata'), 'metadata')}
        obj.metadata = {k: v for k, v in obj.metadata.items() if v != ''}
        return obj

    @classmethod
    def _api_list_all(cls, url, payment_intent=None, status=None, limit=None,
                      starting_after=None, **kwargs):
        for k in kwargs:
            raise unknown(k)
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        li._list.reverse()  # newest first
        for s in li._list:
            s._expire_if_due()
        if payment_intent is not None:
            li._list = [s for s in li._list if s.payment_intent == payment_intent]
        if status is not None:
            li._list = [s for s in li._list if s.status == status]
        return li

    @classmethod
    def _api_expire(cls, id, **kwargs):
        for k in kwargs:
            raise unknown(k)
        obj = cls._api_retrieve(id)
        if obj.status != 'open':
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be '
                              f'expired. This Checkout Session has a status of "{obj.status}".')
        obj._expire()
        return obj


async def list_line_items(request):
    session = CheckoutSession._api_retrieve(request.match_info['id'])
    return json_response(session._line_items())


SESSIONS = '/v1/checkout/sessions'
# Extra routes before the {id} ones, as localstripe does.
app.router.add_post(SESSIONS + '/{id}/expire',
                    ls_server.api_extra(CheckoutSession._api_expire, SESSIONS + '/{id}/expire'))
app.router.add_get(SESSIONS + '/{id}/line_items', list_line_items)
app.router.add_post(SESSIONS, ls_server.api_create(CheckoutSession, SESSIONS))
app.router.add_get(SESSIONS, ls_server.api_list_all(CheckoutSession, SESSIONS))
app.router.add_get(SESSIONS + '/{id}', ls_server.api_retrieve(CheckoutSession, SESSIONS))
app.router.add_post(SESSIONS + '/{id}', ls_server.api_update(CheckoutSession, SESSIONS))
app.router.add_get('/v1/account', retrieve_account)


# ---- the hosted payment page (stands in for checkout.stripe.com) ------------------------------

PAGE = '''<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:30em;margin:2em auto}}
label{{display:block;margin:1em 0}}input{{display:block;width:100%;padding:.4em}}
#error{{color:#b00}}</style></head>
<body>
<main>
<p id="merchant">{merchant}</p>
{body}
<p><small>Stripe test mode (localstripe): 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is
declined.</small></p>
</main>
</body>
</html>
'''


def _page(status, title, body):
    return web.Response(status=status, content_type='text/html', charset='utf-8',
                        text=PAGE.format(title=html.escape(title), body=body,
                                         merchant=html.escape(ACCOUNT['name'])))


def _pay_form(session, error=None, card='4242424242424242', email=None):
    e = html.escape
    total = _amount(session.amount_total, session.currency)
    items = ''.join(f'<li>{e(i["description"])} × {i["quantity"]}: '
                    f'{e(_amount(i["amount_total"], i["currency"]))}</li>'
                    for i in session._items)
    email = session.customer_email or email or ''
    readonly = ' readonly' if session.customer_email else ''
    cancel = (f'<p><a id="cancel" href="{e(session.cancel_url)}">Cancel</a></p>'
              if session.cancel_url else '')
    alert = f'<p id="error" role="alert">{e(error)}</p>' if error else ''
    return f'''<h1>Pay <span id="amount">{e(total)}</span></h1>
<ul id="line-items">{items}</ul>
{alert}
<form id="payment-form" method="post" action="{e(PAY_PATH + session.id)}">
<label>Email <input id="email" name="email" type="email" autocomplete="email"
 value="{e(email)}"{readonly}></label>
<label>Card number <input id="card" name="card" inputmode="numeric" autocomplete="cc-number"
 value="{e(card)}"></label>
<button id="pay" type="submit">Pay {e(total)}</button>
</form>
{cancel}'''


def _session_for_page(id):
    session = ls.store.get('checkout.session:' + id)
    if session is None:
        return None, _page(404, 'Not found', '<h1>This Checkout Session does not exist.</h1>')
    session._expire_if_due()
    if session.status != 'open':
        what = 'has expired' if session.status == 'expired' else 'is already paid'
        return None, _page(400, 'No longer available',
                           f'<h1 id="unavailable" data-status="{session.status}">This Checkout '
                           f'Session {what}.</h1><p>Its status is "{session.status}".</p>')
    return session, None


async def pay_page(request):
    session, refusal = _session_for_page(request.match_info['id'])
    if refusal is not None:
        return refusal
    return _page(200, f'Pay {_amount(session.amount_total, session.currency)}',
                 _pay_form(session))


async def pay_submit(request):
    form = await request.post()
    # No await below: the session's state cannot change under us.
    session, refusal = _session_for_page(request.match_info['id'])
    if refusal is not None:
        return refusal
    card = re.sub(r'[\s-]', '', str(form.get('card', '')))
    email = str(form.get('email', '')).strip() or None
    email = session.customer_email or email
    if not re.fullmatch(r'\d{16}', card):
        return _page(400, 'Card number', _pay_form(session, 'Your card number is incomplete.',
                                                   card, email))
    pid = session._payment_intent_data
    try:
        pm = PaymentMethod(type='card', card={'number': card, 'exp_month': 12,
                                              'exp_year': time.gmtime().tm_year + 5,
                                              'cvc': '123'},
                           billing_details={'address': None, 'email': email, 'name': None,
                                            'phone': None})
        pi = PaymentIntent._api_create(amount=session.amount_total, currency=session.currency,
                                       payment_method=pm.id, metadata=dict(pid['metadata']),
                                       confirm=True)
        if pi.status == 'requires_action':  # 3-D Secure cards: the challenge counts as passed
            PaymentIntent._api_authenticate(pi.id, client_secret=pi.client_secret, success=True)
    except UserError as e:
        message = e.body.get('error', {}).get('message') or 'Your card was declined.'
        status = 402 if e.code == 402 else 400
        return _page(status, 'Payment declined', _pay_form(session, message, card, email))
    if pi.status != 'succeeded':
        return _page(402, 'Payment declined', _pay_form(session, 'Your card was declined.',
                                                        card, email))
    pi.description = pid['description']
    pi.receipt_email = None
    session._complete(pi, email)
    location = session.success_url.replace('{CHECKOUT_SESSION_ID}', session.id)
    return web.Response(status=303, headers={'Location': location}, content_type='text/plain',
                        text=f'See {location}\n')


app.router.add_get(PAY_PATH + '{id}', pay_page)
app.router.add_post(PAY_PATH + '{id}', pay_submit)


# ---- launcher ---------------------------------------------------------------------------------

def main():
    global API_VERSION, BASE_URL
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True, help='0: any free port')
    parser.add_argument('--account-name', default=ACCOUNT['name'])
    parser.add_argument('--country', default=ACCOUNT['country'])
    parser.add_argument('--currency', default=ACCOUNT['currency'])
    parser.add_argument('--api-version', default=API_VERSION)
    parser.add_argument('--verbose', action='store_true', help='log every request to stderr')
    args = parser.parse_args()
    ACCOUNT.update(name=args.account_name, country=args.country.upper(),
                   currency=args.currency.lower())
    API_VERSION = args.api_version

    # localstripe logs webhook deliveries on aiohttp.access.
    logger = logging.getLogger('aiohttp.access')
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler(sys.stderr))

    async def serve():
        global BASE_URL
        runner = web.AppRunner(app, access_log=logger if args.verbose else None)
        await runner.setup()
        site = web.TCPSite(runner, '127.0.0.1', args.port)
        await site.start()
        port = runner.addresses[0][1]
        BASE_URL = f'http://127.0.0.1:{port}'
        print(f'listening on {BASE_URL}', flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())


if __name__ == '__main__':
    main()
