def content_length(get_response):
    """Sets Content-Length on each response that has a body. Django's handler does not, so a server
    must chunk or close the connection to end the response, and uWSGI's --http11-socket does
    neither: the client waits for the socket timeout. (CommonMiddleware would set it, but on 204
    answers too, where HTTP forbids it.)"""

    def middleware(request):
        response = get_response(request)
        if not response.streaming and response.status_code not in (204, 304) and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    return middleware
