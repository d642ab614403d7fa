import { evaluateCond } from '../../runtime/freeswitch-simulator/cond-function';
import { EslCommandParser } from '../../runtime/freeswitch-simulator/esl-command-parser';
import { FsEvent } from '../../runtime/freeswitch-simulator/fs-event';
import { EventSubscription } from '../../runtime/freeswitch-simulator/event-subscription';
import { serializePlain } from '../../runtime/freeswitch-simulator/event-serializer';
import { separateString } from '../../runtime/freeswitch-simulator/separate-string';
import { fsUrlEncode } from '../../runtime/freeswitch-simulator/url-encode';
import { expandVariables } from '../../runtime/freeswitch-simulator/variable-expander';

describe('FreeSWITCH text functions', () => {
  it('URL-encodes header values like switch_url_encode', () => {
    expect(fsUrlEncode('sofia/internal/1000@10.0.0.1:5060')).toBe('sofia/internal/1000%4010.0.0.1%3A5060');
    expect(fsUrlEncode('+OK\n')).toBe('%2BOK%0A');
    expect(fsUrlEncode('a b,c(d)!')).toBe('a%20b,c(d)!');
    expect(fsUrlEncode('ü')).toBe('%C3%BC');
    // An existing uppercase escape is kept, not double-encoded.
    expect(fsUrlEncode('100%25 sure')).toBe('100%25%20sure');
    expect(fsUrlEncode('100%')).toBe('100%25');
  });

  it('serialises empty values as _undef_ and appends the body with its byte length', () => {
    const event = new FsEvent('CUSTOM').add('Event-Name', 'CUSTOM').add('Empty', '');
    expect(serializePlain(event)).toBe('Event-Name: CUSTOM\nEmpty: _undef_\n\n');
    event.body = 'é\n';
    expect(serializePlain(event)).toBe('Event-Name: CUSTOM\nEmpty: _undef_\nContent-Length: 3\n\né\n');
  });

  it('splits like switch_separate_string', () => {
    expect(separateString('insert/routes/cc/a|b:8084/x', '/', 4)).toEqual(['insert', 'routes', 'cc', 'a|b:8084/x']);
    expect(separateString("  one   'two three'  four", ' ', 10)).toEqual(['one', 'two three', 'four']);
    expect(separateString('a b c', ' ', 2)).toEqual(['a', 'b c']);
    expect(separateString(" x == 'y' : yes ", ':', 3)).toEqual(['x == y', 'yes']);
  });

  it('evaluates cond numerically when both sides are numbers and as strings otherwise', () => {
    expect(evaluateCond('10 > 9 ? yes : no')).toBe('yes');
    expect(evaluateCond('10 > 9.5 ? yes : no')).toBe('yes');
    expect(evaluateCond('abc == abc ? same : different')).toBe('same');
    expect(evaluateCond("'a b' != 'a b' ? different : same")).toBe('same');
    expect(evaluateCond('abc == 3 ? length-three : other')).toBe('length-three');
    expect(evaluateCond(' <= 0 ? empty : set')).toBe('empty');
    expect(evaluateCond('1 == 2 ? only-true')).toBe('');
    expect(evaluateCond('1 = 1 ? a : b')).toBe('-ERR');
    expect(evaluateCond('no question mark')).toBe('-ERR');
    // The first `?` becomes a `:` and the text splits on `:` into three: a `:` in the true branch cuts it.
    expect(evaluateCond('1 == 1 ? host:8084 : other:8084')).toBe('host');
  });

  it('expands nested variables and function calls', () => {
    const variables = new Map([
      ['group', 'blue'],
      ['key_blue', 'routes-blue'],
      ['long', 'abcdef'],
    ]);
    const calls: string[] = [];
    const scope = {
      lookup: (name: string) => variables.get(name),
      callFunction: (name: string, args: string) => {
        calls.push(`${name}(${args})`);
        return name === 'upper' ? args.toUpperCase() : undefined;
      },
    };
    expect(expandVariables('x=${key_${group}}', scope)).toBe('x=routes-blue');
    expect(expandVariables('${upper(${group} (sky))}!', scope)).toBe('BLUE (SKY)!');
    expect(expandVariables('[${nothing}][${missing(x)}]', scope)).toBe('[][]');
    expect(expandVariables('${long:2:3} ${long:-2}', scope)).toBe('cde ef');
    expect(expandVariables('$1 and ${unterminated', scope)).toBe('$1 and ${unterminated');
    expect(calls).toEqual(['upper(blue (sky))', 'missing(x)']);
  });

  it('parses client packets across chunks, ignoring CR and leading blank lines', () => {
    const parser = new EslCommandParser();
    expect(parser.push(Buffer.from('\r\n\nsendmsg\r\ncall-command: execute\r\nexecute-app-name: log\r\n'))).toEqual([]);
    const [sendmsg, api] = parser.push(Buffer.from('content-length: 5\r\n\r\nhello' + 'api status\n\n'));
    expect(sendmsg.line).toBe('sendmsg');
    expect(sendmsg.header('Call-Command')).toBe('execute');
    expect(sendmsg.body).toBe('hello');
    expect(api.line).toBe('api status');
  });

  it('applies positive, negative and regex filters like event_handler', () => {
    const subscription = new EventSubscription();
    const event = (uuid: string, destination: string): FsEvent =>
      new FsEvent('CHANNEL_ANSWER').add('Unique-ID', uuid).add('Caller-Destination-Number', destination);
    expect(subscription.passesFilters(event('a', '1'))).toBe(true);

    subscription.addFilter('Unique-ID', 'A');
    expect(subscription.passesFilters(event('a', '1'))).toBe(true);
    expect(subscription.passesFilters(event('b', '1'))).toBe(false);
    expect(subscription.passesFilters(new FsEvent('HEARTBEAT'))).toBe(false);

    subscription.addFilter('Caller-Destination-Number', '/^9/');
    expect(subscription.passesFilters(event('b', '900'))).toBe(true);
    subscription.addFilter('Caller-Destination-Number', '-901');
    expect(subscription.passesFilters(event('b', '901'))).toBe(false);

    subscription.deleteFilter('all', undefined);
    expect(subscription.passesFilters(event('b', '901'))).toBe(true);
  });
});
